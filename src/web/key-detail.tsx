import { useEffect, useState } from 'preact/hooks';
import { api, RequestFailed } from './api.js';
import { ExitPanel } from './exit-panel.js';
import { formatBytes, formatTime, type KeySummary, statusOf } from './model.js';
import { SnapshotsPanel } from './snapshots-panel.js';
import { VerifyPanel } from './verify-panel.js';
import { VersionsPanel } from './versions-panel.js';

/** What an action's button shows while it runs, and the message it left. */
export function useAction(onDone?: () => void) {
  const [running, setRunning] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  const run = async (action: () => Promise<string | undefined>) => {
    setRunning(true);
    setMessage(undefined);
    try {
      const text = await action();
      setMessage(text ? { ok: true, text } : undefined);
    } catch (error) {
      setMessage({ ok: false, text: errorText(error) });
    } finally {
      setRunning(false);
      onDone?.();
    }
  };
  return { running, message, run };
}

export function errorText(error: unknown): string {
  return error instanceof RequestFailed ? error.error.message : String(error);
}

export function Message(props: { message: { ok: boolean; text: string } | undefined }) {
  if (!props.message) return null;
  return (
    <p role={props.message.ok ? 'status' : 'alert'} class={props.message.ok ? 'ok' : 'error'}>
      {props.message.text}
    </p>
  );
}

/**
 * One pubky: its status and actions, failing files, live activity, snapshots, versions, verify,
 * and restore / migrate. `tick` rises with every daemon event, so lists re-read themselves.
 */
export function KeyDetail(props: {
  pubky: string;
  summary: KeySummary | undefined;
  tick: number;
  onChange: () => void;
}) {
  const key = props.summary;
  const action = useAction(props.onChange);
  if (!key) {
    return (
      <section>
        <p class="muted">
          No pubky {props.pubky} in this backup. <a href="#/">Back to the list</a>
        </p>
      </section>
    );
  }
  const status = statusOf(key);
  const pubky = key.pubky;
  return (
    <section class="detail-page" data-pubky={pubky} data-status={status.word}>
      <p>
        <a href="#/">← Pubkys</a>
      </p>
      <h1 class="pubky">{pubky}</h1>
      <p>
        <span class={`status ${status.tone}`} role="status">
          {status.word}
        </span>{' '}
        <span class="detail">{status.detail}</span>
      </p>
      <dl class="facts">
        <dt>Homeserver</dt>
        <dd>
          {key.homeserver ?? 'not resolved yet'}
          {key.pinned ? ' (pinned)' : ''}
        </dd>
        <dt>Files</dt>
        <dd class="files">{key.files}</dd>
        <dt>Size</dt>
        <dd>{formatBytes(key.bytes)}</dd>
        <dt>Last sync</dt>
        <dd>{formatTime(key.live?.lastSync ?? key.lastRun?.finishedAt)}</dd>
        <dt>Cursor</dt>
        <dd class="mono">{key.cursor || '—'}</dd>
      </dl>
      <div class="actions">
        {key.active && (
          <button type="button" disabled={action.running} onClick={() => action.run(() => syncKey(pubky))}>
            Force sync
          </button>
        )}
        {key.active && !key.paused && (
          <button
            type="button"
            class="quiet"
            onClick={() => action.run(() => api('POST', `/keys/${pubky}/pause`).then(() => 'paused'))}
          >
            Pause
          </button>
        )}
        {key.paused && (
          <button
            type="button"
            onClick={() =>
              action.run(() =>
                api('POST', `/keys/${pubky}/resume`, {
                  acceptDeletes: key.paused?.reason === 'mass-delete',
                }).then(() => 'resumed'),
              )
            }
          >
            {key.paused.reason === 'mass-delete' ? 'Resume and apply the deletes' : 'Resume'}
          </button>
        )}
        <CheckButton pubky={pubky} />
      </div>
      <Message message={action.message} />
      {key.error && (
        <p role="alert" class="error">
          {key.error.message}
        </p>
      )}
      <FailingFiles summary={key} />
      <Activity pubky={pubky} tick={props.tick} />
      <SnapshotsPanel pubky={pubky} tick={props.tick} />
      <VerifyPanel pubky={pubky} />
      <VersionsPanel pubky={pubky} tick={props.tick} />
      <ExitPanel pubky={pubky} homeserver={key.homeserver} onChange={props.onChange} />
    </section>
  );
}

async function syncKey(pubky: string): Promise<string> {
  type Outcome = {
    error?: { message: string };
    stored?: number;
    deleted?: number;
    failed?: number;
    paused?: boolean;
    waiting?: boolean;
  };
  const { results } = await api<{ results: Outcome[] }>('POST', `/keys/${pubky}/sync`);
  const r = results[0];
  if (!r) return 'synced';
  if (r.error) throw new Error(r.error.message);
  if (r.waiting) return 'the homeserver does not know this pubky yet';
  if (r.paused) return 'paused: see the status above';
  return `synced: ${r.stored ?? 0} stored, ${r.deleted ?? 0} deleted${r.failed ? `, ${r.failed} failed` : ''}`;
}

/** Check: the backup against itself (size and mtime of every file, versions, snapshots). */
function CheckButton(props: { pubky: string }) {
  const action = useAction();
  return (
    <>
      <button
        type="button"
        class="quiet"
        disabled={action.running}
        onClick={() =>
          action.run(async () => {
            const { report } = await api<{
              report: { files: number; problems: Array<{ path: string; detail: string }> };
            }>('POST', `/keys/${props.pubky}/check`, {});
            if (report.problems.length === 0) return `check: ${report.files} files, no problems`;
            throw new Error(
              `check: ${report.problems.length} problems: ${report.problems
                .slice(0, 5)
                .map((p) => `${p.path}: ${p.detail}`)
                .join(
                  '; ',
                )}${report.problems.length > 5 ? '…' : ''}. Run "pubky-backup check --repair" to fetch them again.`,
            );
          })
        }
      >
        {action.running ? 'Checking…' : 'Check'}
      </button>
      <Message message={action.message} />
    </>
  );
}

function FailingFiles(props: { summary: KeySummary }) {
  const failing = props.summary.pendingRetries;
  if (failing.length === 0) return null;
  return (
    <section class="panel" aria-label="Failing files">
      <h2>Failing files</h2>
      <p class="muted">
        Retried with backoff at every sync; the cursor moves on, so nothing else waits for them.
      </p>
      <ul class="plain">
        {failing.map((f) => (
          <li key={f.path}>
            <span class="mono">{f.path}</span> — {f.lastError} ({f.attempts} attempts)
          </li>
        ))}
      </ul>
    </section>
  );
}

interface ActivityEntry {
  type: string;
  message: string;
  timestamp: string;
}

/** The key's activity log, newest first; re-read when the daemon reports anything. */
function Activity(props: { pubky: string; tick: number }) {
  const [entries, setEntries] = useState<ActivityEntry[] | undefined>();
  useEffect(() => {
    let live = true;
    api<{ activity: ActivityEntry[] }>('GET', `/keys/${props.pubky}/activity?last=30`)
      .then(({ activity }) => live && setEntries(activity.reverse()))
      .catch(() => live && setEntries([]));
    return () => {
      live = false;
    };
  }, [props.pubky, props.tick]);
  return (
    <section class="panel" aria-label="Activity">
      <h2>Activity</h2>
      {!entries ? (
        <p class="muted">Loading…</p>
      ) : entries.length === 0 ? (
        <p class="muted">Nothing yet.</p>
      ) : (
        <ol class="plain activity" aria-live="polite">
          {entries.map((e, i) => (
            <li key={`${e.timestamp}-${i}`}>
              <time dateTime={e.timestamp}>{formatTime(e.timestamp)}</time>{' '}
              <span class="muted">{e.type}</span> {e.message}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
