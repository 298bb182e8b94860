import { useEffect, useRef, useState } from 'preact/hooks';
import { api, RequestFailed } from './api.js';
import { formatBytes, formatTime, type KeySummary, statusOf } from './model.js';

/** The list of pubkys: add (validated as you type), force sync, one row per pubky. */
export function KeysPage(props: {
  keys: KeySummary[] | undefined;
  pollSeconds: number | undefined;
  onChange: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const syncAll = async () => {
    setBusy(true);
    try {
      await api('POST', '/sync');
    } catch {
      // each key's row shows its own error
    } finally {
      setBusy(false);
      props.onChange();
    }
  };
  return (
    <section>
      <AddKey onAdded={props.onChange} />
      <div class="toolbar">
        <h1>Pubkys</h1>
        <button type="button" onClick={syncAll} disabled={busy || !props.keys?.length}>
          {busy ? 'Syncing…' : 'Force sync'}
        </button>
      </div>
      {props.keys === undefined ? (
        <p class="muted">Loading…</p>
      ) : props.keys.length === 0 ? (
        <p class="muted">No pubkys yet: add one above.</p>
      ) : (
        <ul class="keys" aria-label="Backed-up pubkys">
          {props.keys.map((key) => (
            <KeyRow key={key.pubky} summary={key} pollSeconds={props.pollSeconds} onChange={props.onChange} />
          ))}
        </ul>
      )}
    </section>
  );
}

function KeyRow(props: { summary: KeySummary; pollSeconds: number | undefined; onChange: () => void }) {
  const key = props.summary;
  const status = statusOf(key);
  const [confirm, setConfirm] = useState(false);
  const [deleteData, setDeleteData] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const act = async (method: string, path: string, body?: unknown) => {
    try {
      await api(method, path, body);
      setMessage(undefined);
    } catch (error) {
      setMessage(error instanceof RequestFailed ? error.error.message : String(error));
    }
    props.onChange();
  };
  const last = key.live?.lastSync ?? key.lastRun?.finishedAt;
  return (
    <li class="key" data-pubky={key.pubky} data-status={status.word}>
      <div class="key-head">
        <a class="pubky" href={`#/key/${key.pubky}`}>
          {key.pubky}
        </a>
        <span class={`status ${status.tone}`} role="status">
          {status.word}
        </span>
      </div>
      <p class="detail">{status.detail}</p>
      <dl class="facts">
        <dt>Homeserver</dt>
        <dd>{key.homeserver ?? 'not resolved yet'}</dd>
        <dt>Files</dt>
        <dd class="files">{key.files}</dd>
        <dt>Size</dt>
        <dd>{formatBytes(key.bytes)}</dd>
        <dt>Last sync</dt>
        <dd>{formatTime(last)}</dd>
        <dt>Next sync</dt>
        <dd>{nextSync(key, last, props.pollSeconds)}</dd>
      </dl>
      {message && (
        <p role="alert" class="error">
          {message}
        </p>
      )}
      <div class="actions">
        {key.active && (
          <button type="button" onClick={() => act('POST', `/keys/${key.pubky}/sync`)}>
            Force sync
          </button>
        )}
        {key.paused && (
          <button
            type="button"
            onClick={() =>
              act('POST', `/keys/${key.pubky}/resume`, {
                acceptDeletes: key.paused?.reason === 'mass-delete',
              })
            }
          >
            {key.paused.reason === 'mass-delete' ? 'Resume and apply the deletes' : 'Resume'}
          </button>
        )}
        <a class="button" href={`#/key/${key.pubky}`}>
          Open
        </a>
        {key.active && !confirm && (
          <button type="button" class="quiet" onClick={() => setConfirm(true)}>
            Remove
          </button>
        )}
      </div>
      {confirm && (
        <div class="confirm" role="dialog" aria-label={`Remove ${key.pubky}`}>
          <p>
            Stop backing up this pubky?{' '}
            {deleteData
              ? 'Its backed-up files, versions and snapshots will be deleted for good.'
              : 'Its backed-up files, versions and snapshots stay on this computer.'}
          </p>
          <label>
            <input
              type="checkbox"
              checked={deleteData}
              onChange={(e) => setDeleteData(e.currentTarget.checked)}
            />{' '}
            Also delete the backed-up data
          </label>
          <div class="actions">
            <button
              type="button"
              class="danger"
              onClick={() => act('DELETE', `/keys/${key.pubky}${deleteData ? '?deleteData=true' : ''}`)}
            >
              Remove
            </button>
            <button type="button" onClick={() => setConfirm(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
    </li>
  );
}

/** The add form: the pubky is checked by the daemon's parser as you type (same messages as `check-key`). */
function AddKey(props: { onAdded: () => void }) {
  const [text, setText] = useState('');
  const [homeserver, setHomeserver] = useState('');
  const [check, setCheck] = useState<{ ok: boolean; message: string } | undefined>();
  const [adding, setAdding] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: string } | undefined>();
  const latest = useRef(0);
  useEffect(() => {
    if (text.trim() === '') {
      setCheck(undefined);
      return;
    }
    const ticket = ++latest.current;
    const timer = setTimeout(async () => {
      try {
        const { pubky } = await api<{ pubky: string }>('POST', '/check-key', { text });
        if (ticket === latest.current) setCheck({ ok: true, message: `valid pubky: ${pubky}` });
      } catch (error) {
        if (ticket === latest.current)
          setCheck({
            ok: false,
            message: error instanceof RequestFailed ? error.error.message : String(error),
          });
      }
    }, 200);
    return () => clearTimeout(timer);
  }, [text]);
  const submit = async (event: Event) => {
    event.preventDefault();
    setAdding(true);
    try {
      const { key } = await api<{ key: { pubky: string; homeserver: string; knownToHomeserver: boolean } }>(
        'POST',
        '/keys',
        {
          pubky: text,
          ...(homeserver.trim() && { homeserver: homeserver.trim() }),
        },
      );
      setResult({
        ok: true,
        message: `added ${key.pubky} (${key.homeserver})${key.knownToHomeserver ? '' : '; waiting for the homeserver to know it'}`,
      });
      setText('');
      setHomeserver('');
      props.onAdded();
    } catch (error) {
      setResult({ ok: false, message: error instanceof RequestFailed ? error.error.message : String(error) });
    } finally {
      setAdding(false);
    }
  };
  return (
    <form class="add" onSubmit={submit} aria-label="Add a pubky">
      <div class="field">
        <label for="add-pubky">Pubky</label>
        <input
          id="add-pubky"
          name="pubky"
          autocomplete="off"
          spellcheck={false}
          placeholder="pk:… or a profile link"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          aria-describedby="add-pubky-check"
          aria-invalid={check ? !check.ok : undefined}
        />
        <p id="add-pubky-check" class={check ? (check.ok ? 'ok' : 'error') : 'muted'} aria-live="polite">
          {check?.message ?? 'Paste a pubky in any form: pk:…, pubky…, a profile link.'}
        </p>
      </div>
      <div class="field">
        <label for="add-homeserver">Homeserver (optional)</label>
        <input
          id="add-homeserver"
          name="homeserver"
          autocomplete="off"
          placeholder="found through PKDNS when empty"
          value={homeserver}
          onInput={(e) => setHomeserver(e.currentTarget.value)}
        />
      </div>
      <button type="submit" disabled={adding || !check?.ok}>
        {adding ? 'Adding…' : 'Add'}
      </button>
      {result && (
        <p role={result.ok ? 'status' : 'alert'} class={result.ok ? 'ok' : 'error'}>
          {result.message}
        </p>
      )}
    </form>
  );
}

/** When the key is synced next: at once on a change (live stream), else by the next poll. */
function nextSync(key: KeySummary, last: string | undefined, pollSeconds: number | undefined): string {
  if (!key.active || key.paused) return '—';
  if (key.live?.state === 'syncing') return 'now';
  const next =
    key.live?.nextSync ??
    (last && pollSeconds ? new Date(Date.parse(last) + pollSeconds * 1000).toISOString() : undefined);
  return next ? `on any change; polled by ${new Date(next).toLocaleTimeString()}` : 'on any change';
}
