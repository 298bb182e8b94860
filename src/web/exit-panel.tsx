import { useEffect, useState } from 'preact/hooks';
import { api, onEvent } from './api.js';
import { errorText } from './key-detail.js';
import { formatBytes } from './model.js';

type Mode = 'migrate' | 'restore';

interface Progress {
  done: number;
  total: number;
  bytes: number;
  totalBytes: number;
}

interface StepLine {
  step: string;
  status?: string;
  detail?: string;
}

interface ExitResult {
  dryRun: boolean;
  complete?: boolean;
  steps?: StepLine[];
  restore?: RestoreSummary;
  verify?: {
    outcome: string;
    counts: { identical: number; missing: number; changed: number; notBackedUp: number };
  };
  notes: string[];
}

interface RestoreSummary {
  dryRun: boolean;
  target: string;
  files: number;
  bytes: number;
  uploaded: number;
  uploadedBytes: number;
  alreadyThere: number;
  failed: Array<{ path: string; reason: string }>;
  extra: number;
  notes: string[];
}

const MODE_WORDS: Record<Mode, { title: string; explain: string; go: string }> = {
  migrate: {
    title: 'Migrate',
    explain:
      "Move this pubky to another homeserver: sign up there, upload the backup, publish the new homeserver in the pubky's PKDNS record, follow it from now on, and verify.",
    go: 'Migrate',
  },
  restore: {
    title: 'Restore',
    explain:
      'Upload the backup into this pubky’s account on a homeserver (for example after the homeserver lost data). The PKDNS record is not changed.',
    go: 'Restore',
  },
};

/**
 * Credible exit as a guided flow: choose restore or migrate, the target homeserver, the source
 * (mirror or a snapshot), the user's recovery file, an optional signup token; the plan (a dry run)
 * comes first, then the real run with progress, then the result.
 */
export function ExitPanel(props: { pubky: string; homeserver: string | null; onChange: () => void }) {
  const [mode, setMode] = useState<Mode>('migrate');
  const [to, setTo] = useState('');
  const [from, setFrom] = useState('mirror');
  const [key, setKey] = useState<KeyFile | undefined>();
  const [passphrase, setPassphrase] = useState('');
  const [signupToken, setSignupToken] = useState('');
  const [plan, setPlan] = useState<ExitResult | undefined>();
  const [result, setResult] = useState<ExitResult | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const [running, setRunning] = useState<'plan' | 'run' | undefined>();
  const [progress, setProgress] = useState<Progress | undefined>();
  const [steps, setSteps] = useState<StepLine[]>([]);

  useEffect(() => {
    if (running !== 'run') return;
    return onEvent((event) => {
      if (event.data.pubky !== props.pubky) return;
      if (event.type === 'RestoreProgress') setProgress(event.data as unknown as Progress);
      if (event.type === 'MigrateStep') {
        const line = event.data as unknown as StepLine;
        setSteps((current) => [...current.filter((s) => s.step !== line.step), line]);
      }
    });
  }, [running, props.pubky]);

  // Anything changed makes the plan stale: it has to be shown again before the real run.
  useEffect(() => setPlan(undefined), [mode, to, from, signupToken]);

  const body = (dryRun: boolean) => ({
    to: to.trim(),
    from,
    dryRun,
    ...(key?.kind === 'recovery' && { recoveryFile: key.value, passphrase }),
    ...(key?.kind === 'secret' && { secretKey: key.value }),
    ...(signupToken.trim() && { signupToken: signupToken.trim() }),
  });
  const go = async (dryRun: boolean) => {
    setRunning(dryRun ? 'plan' : 'run');
    setFailure(undefined);
    setResult(undefined);
    setProgress(undefined);
    setSteps([]);
    try {
      const answer = await api<{ result: ExitResult | RestoreSummary }>(
        'POST',
        `/keys/${props.pubky}/${mode}`,
        body(dryRun),
      );
      // A restore answers with its summary alone; a migrate with its steps and the summary inside.
      const shaped: ExitResult =
        mode === 'restore'
          ? { dryRun, restore: answer.result as RestoreSummary, notes: [] }
          : (answer.result as ExitResult);
      if (dryRun) setPlan(shaped);
      else setResult(shaped);
    } catch (error) {
      setFailure(errorText(error));
    } finally {
      setRunning(undefined);
      if (!dryRun) props.onChange();
    }
  };
  const readKey = async (file: File | undefined) => {
    setKey(file ? keyFileOf(new Uint8Array(await file.arrayBuffer())) : undefined);
  };
  const words = MODE_WORDS[mode];
  return (
    <section class="panel" aria-label="Restore or migrate">
      <h2>Restore or migrate</h2>
      <fieldset>
        <legend>What to do</legend>
        {(['migrate', 'restore'] as const).map((m) => (
          <label key={m}>
            <input type="radio" name="exit-mode" value={m} checked={mode === m} onChange={() => setMode(m)} />{' '}
            {MODE_WORDS[m].title}
          </label>
        ))}
      </fieldset>
      <p class="muted">{words.explain}</p>
      <div class="field">
        <label for="exit-to">Target homeserver</label>
        <input
          id="exit-to"
          value={to}
          onInput={(e) => setTo(e.currentTarget.value)}
          placeholder="its pubky, or http(s)://… URL"
          autocomplete="off"
          spellcheck={false}
        />
        {props.homeserver && <p class="muted">Now: {props.homeserver}</p>}
      </div>
      <div class="field">
        <label for="exit-from">Source</label>
        <select id="exit-from" value={from} onChange={(e) => setFrom(e.currentTarget.value)}>
          <option value="mirror">the backup (current files)</option>
          <option value="snapshot">the newest snapshot</option>
        </select>
      </div>
      <div class="field">
        <label for="exit-recovery">Recovery file or secret key file</label>
        <input id="exit-recovery" type="file" onChange={(e) => readKey(e.currentTarget.files?.[0])} />
        <p class="muted">
          Needed to sign in on the target (not for the plan). Read by the local daemon only, never stored.
        </p>
      </div>
      {key?.kind === 'recovery' && (
        <div class="field">
          <label for="exit-passphrase">Passphrase</label>
          <input
            id="exit-passphrase"
            type="password"
            value={passphrase}
            onInput={(e) => setPassphrase(e.currentTarget.value)}
          />
        </div>
      )}
      <div class="field">
        <label for="exit-token">Signup token (optional)</label>
        <input
          id="exit-token"
          value={signupToken}
          onInput={(e) => setSignupToken(e.currentTarget.value)}
          autocomplete="off"
        />
      </div>
      <div class="actions">
        <button type="button" disabled={!to.trim() || running !== undefined} onClick={() => go(true)}>
          {running === 'plan' ? 'Planning…' : 'Show plan'}
        </button>
        <button
          type="button"
          class="danger"
          disabled={!plan || !key || running !== undefined}
          onClick={() => go(false)}
        >
          {running === 'run' ? `${words.go}…` : words.go}
        </button>
      </div>
      {!plan && to.trim() && !running && (
        <p class="muted">Show the plan first; nothing is written until you confirm.</p>
      )}
      {failure && (
        <p role="alert" class="error">
          {failure}
        </p>
      )}
      {plan && !result && <ResultView title="Plan (nothing done yet)" result={plan} />}
      {running === 'run' && (
        <div role="status" aria-live="polite">
          {steps.map((s) => (
            <p key={s.step}>
              {s.status === 'done' ? '✓' : s.status === 'failed' ? '✗' : '…'} {s.step}
              {s.detail ? `: ${s.detail}` : ''}
            </p>
          ))}
          {progress && (
            <>
              <progress
                max={progress.totalBytes || progress.total}
                value={progress.totalBytes ? progress.bytes : progress.done}
              />
              <p class="muted">
                {progress.done}/{progress.total} files · {formatBytes(progress.bytes)} of{' '}
                {formatBytes(progress.totalBytes)}
              </p>
            </>
          )}
        </div>
      )}
      {result && <ResultView title="Done" result={result} />}
    </section>
  );
}

/** The user's key as the API takes it: a recovery file (base64, with a passphrase) or a secret key. */
type KeyFile = { kind: 'recovery' | 'secret'; value: string };

/**
 * A recovery file starts with `pubky.org/recovery` (or pkarr's older prefix); anything else is a
 * secret key file: 32 raw bytes (sent as hex) or text (64 hex, 52 z-base-32 or base64 characters).
 */
function keyFileOf(bytes: Uint8Array): KeyFile {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  if (text.startsWith('pubky.org/recovery') || text.startsWith('pkarr.org/recovery'))
    return { kind: 'recovery', value: btoa(text) };
  if (bytes.length === 32)
    return { kind: 'secret', value: Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('') };
  return { kind: 'secret', value: text.trim() };
}

function ResultView(props: { title: string; result: ExitResult }) {
  const r = props.result;
  const restore = r.restore;
  return (
    <div class="report">
      <h3>{props.title}</h3>
      {r.steps && (
        <ol class="plain">
          {r.steps.map((s) => (
            <li key={s.step}>
              <strong>{s.step}</strong>
              {s.status ? ` (${s.status})` : ''}: {s.detail ?? ''}
            </li>
          ))}
        </ol>
      )}
      {restore && (
        <p>
          {restore.dryRun ? 'Would upload' : 'Uploaded'} {restore.uploaded} of {restore.files} files (
          {formatBytes(restore.uploadedBytes)}
          ); {restore.alreadyThere} already there
          {restore.extra ? `; ${restore.extra} extra files on the target kept` : ''}
          {restore.failed.length ? `; ${restore.failed.length} failed` : ''}.
        </p>
      )}
      {restore?.failed.length ? (
        <ul class="plain">
          {restore.failed.slice(0, 20).map((f) => (
            <li key={f.path} class="error">
              <span class="mono">{f.path}</span>: {f.reason}
            </li>
          ))}
        </ul>
      ) : null}
      {r.verify && (
        <p class={r.verify.outcome === 'identical' ? 'ok' : 'error'}>
          Verify on the target: {r.verify.outcome} ({r.verify.counts.identical} identical)
        </p>
      )}
      {[...r.notes, ...(restore?.notes ?? [])].map((note) => (
        <p key={note} class="muted">
          {note}
        </p>
      ))}
    </div>
  );
}
