import { useState } from 'preact/hooks';
import { api } from './api.js';
import { errorText } from './key-detail.js';
import { formatBytes, formatTime } from './model.js';

interface VerifyReport {
  homeserver: string;
  checkedAt: string;
  readData: boolean;
  outcome: 'identical' | 'differences';
  counts: {
    backup: number;
    homeserver: number;
    identical: number;
    missing: number;
    changed: number;
    notBackedUp: number;
    unverifiable: number;
  };
  bytesRead: number;
  notes: string[];
  findings: Array<{ path: string; problem: string; detail: string }>;
}

const PROBLEM_WORDS: Record<string, string> = {
  missing: 'gone from the homeserver without a delete event',
  changed: 'changed on the homeserver without an event',
  'not-backed-up': 'on the homeserver, not in the backup',
  unverifiable: 'could not be verified',
};

/** Verify: the backup against what the homeserver serves now; the report says what differs and why. */
export function VerifyPanel(props: { pubky: string }) {
  const [readData, setReadData] = useState(false);
  const [running, setRunning] = useState(false);
  const [report, setReport] = useState<VerifyReport | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const run = async () => {
    setRunning(true);
    setFailure(undefined);
    try {
      setReport(
        (await api<{ report: VerifyReport }>('POST', `/keys/${props.pubky}/verify`, { readData })).report,
      );
    } catch (error) {
      setReport(undefined);
      setFailure(errorText(error));
    } finally {
      setRunning(false);
    }
  };
  return (
    <section class="panel" aria-label="Verify">
      <div class="toolbar">
        <h2>Verify</h2>
        <button type="button" onClick={run} disabled={running}>
          {running ? 'Verifying…' : 'Verify'}
        </button>
      </div>
      <p class="muted">
        Compares every backed-up file with what the homeserver serves now, to find tampering or loss.
      </p>
      <label>
        <input type="checkbox" checked={readData} onChange={(e) => setReadData(e.currentTarget.checked)} />{' '}
        Download and hash every file (slower; does not trust the homeserver's ETags)
      </label>
      {failure && (
        <p role="alert" class="error">
          {failure}
        </p>
      )}
      {report && <VerifyReportView report={report} />}
    </section>
  );
}

function VerifyReportView(props: { report: VerifyReport }) {
  const r = props.report;
  const c = r.counts;
  const clean = r.outcome === 'identical';
  return (
    <div class="report" data-outcome={r.outcome}>
      <p role="status" class={clean ? 'ok' : 'error'}>
        {clean
          ? `Identical: all ${c.identical} files match the homeserver.`
          : `Differences: ${c.missing} missing, ${c.changed} changed, ${c.notBackedUp} not backed up, ${c.unverifiable} unverifiable.`}
      </p>
      <p class="muted">
        {r.homeserver} · {formatTime(r.checkedAt)} · backup {c.backup} files, homeserver {c.homeserver} files
        {r.readData ? ` · ${formatBytes(r.bytesRead)} read` : ''}
      </p>
      {r.notes.length > 0 && (
        <ul class="plain">
          {r.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
      {r.findings.length > 0 && (
        <ul class="plain findings">
          {r.findings.slice(0, 100).map((f) => (
            <li key={f.path}>
              <span class="mono">{f.path}</span>: {PROBLEM_WORDS[f.problem] ?? f.problem}{' '}
              <span class="muted">({f.detail})</span>
            </li>
          ))}
          {r.findings.length > 100 && (
            <li class="muted">…and {r.findings.length - 100} more (see `pubky-backup verify --json`)</li>
          )}
        </ul>
      )}
    </div>
  );
}
