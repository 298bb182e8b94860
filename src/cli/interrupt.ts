/** Exit code of a command stopped by Ctrl-C or SIGTERM (128 + SIGINT), as shells expect. */
export const INTERRUPTED_EXIT_CODE = 130;

/**
 * A signal that aborts on the first SIGINT or SIGTERM, so a command can stop cleanly (temp files
 * removed, progress saved) and say what it finished and what is left. A second signal exits at once.
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(INTERRUPTED_EXIT_CODE);
    process.stderr.write('\nstopping… (press Ctrl-C again to quit at once)\n');
    controller.abort(new Error('interrupted'));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return controller.signal;
}
