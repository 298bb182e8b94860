import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ensureDaemon } from '../start-daemon.js';

export function registerOpen(program: Command, context: CliContext): void {
  program
    .command('open')
    .description('open the dashboard in the default browser (starts the daemon when none runs)')
    .option('--print-url', 'print the one-time login link instead of opening a browser')
    .action(async (options: { printUrl?: boolean }) => {
      const output = context.output();
      const { client, started } = await ensureDaemon(context);
      const { url } = await client.request<{ url: string }>('POST', '/login-link');
      const note = started ? `daemon started (pid ${client.info.pid}); ` : '';
      if (options.printUrl) {
        output.result(
          { url, daemon: { pid: client.info.pid, started } },
          `${note}${url}\n(the link works once, within 2 minutes)`,
        );
        return;
      }
      // Loaded only here: other commands never open a browser.
      const { default: openBrowser } = await import('open');
      await openBrowser(url);
      output.result(
        { url, daemon: { pid: client.info.pid, started } },
        `${note}dashboard opened in your browser: http://127.0.0.1:${client.info.port}/`,
      );
    });
}
