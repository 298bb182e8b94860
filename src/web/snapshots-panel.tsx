import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { Message, useAction } from './key-detail.js';
import { formatBytes, formatTime } from './model.js';

interface Snapshot {
  name: string;
  createdAt: string;
  size: number;
}

interface SnapshotCheck {
  entries: number;
  bytes: number;
  problems: Array<{ path?: string; problem: string; detail?: string }>;
}

/** A key's snapshots: create one, list them (newest first), download, check one. */
export function SnapshotsPanel(props: { pubky: string; tick: number }) {
  const [snapshots, setSnapshots] = useState<Snapshot[] | undefined>();
  const [reload, setReload] = useState(0);
  const create = useAction(() => setReload((n) => n + 1));
  useEffect(() => {
    let live = true;
    api<{ snapshots: Snapshot[] }>('GET', `/keys/${props.pubky}/snapshots`)
      .then(({ snapshots }) => live && setSnapshots(snapshots.reverse()))
      .catch(() => live && setSnapshots([]));
    return () => {
      live = false;
    };
  }, [props.pubky, props.tick, reload]);
  return (
    <section class="panel" aria-label="Snapshots">
      <div class="toolbar">
        <h2>Snapshots</h2>
        <button
          type="button"
          disabled={create.running}
          onClick={() =>
            create.run(async () => {
              const { snapshot } = await api<{ snapshot: { name?: string; files?: number } }>(
                'POST',
                `/keys/${props.pubky}/snapshots`,
              );
              return `created ${snapshot.name ?? 'a snapshot'}${snapshot.files === undefined ? '' : ` (${snapshot.files} files)`}`;
            })
          }
        >
          {create.running ? 'Creating…' : 'Create snapshot'}
        </button>
      </div>
      <Message message={create.message} />
      {!snapshots ? (
        <p class="muted">Loading…</p>
      ) : snapshots.length === 0 ? (
        <p class="muted">No snapshots yet.</p>
      ) : (
        <ul class="plain snapshots">
          {snapshots.map((s) => (
            <SnapshotRow key={s.name} pubky={props.pubky} snapshot={s} />
          ))}
        </ul>
      )}
    </section>
  );
}

function SnapshotRow(props: { pubky: string; snapshot: Snapshot }) {
  const s = props.snapshot;
  const check = useAction();
  return (
    <li class="snapshot" data-name={s.name}>
      <span class="mono">{s.name}</span>{' '}
      <span class="muted">
        {formatTime(s.createdAt)} · {formatBytes(s.size)}
      </span>
      <span class="actions">
        <a
          class="button quiet"
          href={`/api/v1/keys/${props.pubky}/snapshots/${encodeURIComponent(s.name)}`}
          download={s.name}
        >
          Download
        </a>
        <button
          type="button"
          class="quiet"
          aria-label={`Check ${s.name}`}
          disabled={check.running}
          onClick={() =>
            check.run(async () => {
              const { report } = await api<{ report: SnapshotCheck }>(
                'POST',
                `/keys/${props.pubky}/snapshots/${encodeURIComponent(s.name)}/check`,
              );
              if (report.problems.length === 0)
                return `intact: ${report.entries} entries, ${formatBytes(report.bytes)}`;
              throw new Error(
                `damaged: ${report.problems
                  .slice(0, 5)
                  .map((p) => `${p.path ?? ''} ${p.problem}`)
                  .join('; ')}`,
              );
            })
          }
        >
          {check.running ? 'Checking…' : 'Check'}
        </button>
      </span>
      <Message message={check.message} />
    </li>
  );
}
