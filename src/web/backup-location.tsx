import { useEffect, useState } from 'preact/hooks';
import { api, onEvent } from './api.js';
import { errorText } from './key-detail.js';
import { formatBytes } from './model.js';

interface Progress {
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
}

/** Where the backup is, and moving it (with progress) to an empty or new folder on any disk. */
export function BackupLocation(props: { dataDir: string | undefined; onChange: () => void }) {
  const [location, setLocation] = useState<{ path: string; moved: boolean } | undefined>();
  const [target, setTarget] = useState('');
  const [moving, setMoving] = useState(false);
  const [progress, setProgress] = useState<Progress | undefined>();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  const load = () =>
    api<{ location: { path: string; moved: boolean } }>('GET', '/backup-location')
      .then(({ location }) => setLocation(location))
      .catch(() => {});
  useEffect(() => void load(), []);
  useEffect(() => {
    if (!moving) return;
    return onEvent((event) => {
      if (event.type === 'MoveProgress') setProgress(event.data as unknown as Progress);
    });
  }, [moving]);
  const move = async (event: Event) => {
    event.preventDefault();
    setMoving(true);
    setMessage(undefined);
    setProgress(undefined);
    try {
      const { moved } = await api<{ moved: { to: string; files: number; bytes: number; renamed: boolean } }>(
        'POST',
        '/backup-location',
        { path: target.trim() },
      );
      setMessage({
        ok: true,
        text: `moved ${moved.files} files (${formatBytes(moved.bytes)}) to ${moved.to}${moved.renamed ? ' (same disk: renamed)' : ''}`,
      });
      setTarget('');
    } catch (error) {
      setMessage({ ok: false, text: errorText(error) });
    } finally {
      setMoving(false);
      await load();
      props.onChange();
    }
  };
  return (
    <form class="field setting" onSubmit={move} aria-label="Backup location">
      <label for="backup-location">Backup location</label>
      <p>
        Now: <span class="mono">{location?.path ?? '…'}</span>
      </p>
      <input
        id="backup-location"
        value={target}
        onInput={(e) => setTarget(e.currentTarget.value)}
        placeholder="/path/to/an/empty/folder"
        autocomplete="off"
        spellcheck={false}
      />
      <p class="muted">
        Moves every pubky's backup there (an empty or new folder). Syncing pauses meanwhile and resumes from
        the new place; the old copy is removed only once the new one is complete.
        {props.dataDir ? ` Settings stay in ${props.dataDir}.` : ''}
      </p>
      <button type="submit" disabled={moving || !target.trim().startsWith('/')}>
        {moving ? 'Moving…' : 'Move'}
      </button>
      {moving && progress && (
        <div role="status" aria-live="polite">
          <progress max={progress.totalBytes || 1} value={progress.bytes} />
          <p class="muted">
            {progress.files}/{progress.totalFiles} files · {formatBytes(progress.bytes)} of{' '}
            {formatBytes(progress.totalBytes)}
          </p>
        </div>
      )}
      {message && (
        <p role={message.ok ? 'status' : 'alert'} class={message.ok ? 'ok' : 'error'}>
          {message.text}
        </p>
      )}
    </form>
  );
}
