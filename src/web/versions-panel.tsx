import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from './api.js';
import { Message, useAction } from './key-detail.js';
import { formatBytes, formatTime } from './model.js';

interface Version {
  path: string;
  versionedAt: string;
  size: number;
}

/** Previous versions of the key's files, filtered by path; restore one (the current copy becomes a version). */
export function VersionsPanel(props: { pubky: string; tick: number }) {
  const [versions, setVersions] = useState<Version[] | undefined>();
  const [filter, setFilter] = useState('');
  const [reload, setReload] = useState(0);
  const restore = useAction(() => setReload((n) => n + 1));
  useEffect(() => {
    let live = true;
    api<{ versions: Version[] }>('GET', `/keys/${props.pubky}/versions`)
      .then(({ versions }) => live && setVersions(versions))
      .catch(() => live && setVersions([]));
    return () => {
      live = false;
    };
  }, [props.pubky, props.tick, reload]);
  const byPath = useMemo(() => {
    const groups = new Map<string, Version[]>();
    for (const v of versions ?? []) {
      if (filter && !v.path.includes(filter)) continue;
      groups.set(v.path, [...(groups.get(v.path) ?? []), v]);
    }
    return [...groups].sort(([a], [b]) => a.localeCompare(b));
  }, [versions, filter]);
  const shown = byPath.slice(0, 50);
  return (
    <section class="panel" aria-label="Versions">
      <h2>Versions</h2>
      <p class="muted">When the homeserver changes or deletes a file, the copy it replaced is kept here.</p>
      <div class="field">
        <label for="versions-filter">Path contains</label>
        <input
          id="versions-filter"
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
          placeholder="/pub/…"
        />
      </div>
      <Message message={restore.message} />
      {!versions ? (
        <p class="muted">Loading…</p>
      ) : shown.length === 0 ? (
        <p class="muted">{versions.length === 0 ? 'No previous versions.' : 'No versions match.'}</p>
      ) : (
        <ul class="plain versions">
          {shown.map(([path, list]) => (
            <li key={path}>
              <span class="mono">{path}</span>
              <ul class="plain">
                {[...list].reverse().map((v) => (
                  <li key={v.versionedAt}>
                    replaced {formatTime(v.versionedAt)} · {formatBytes(v.size)}{' '}
                    <button
                      type="button"
                      class="quiet"
                      aria-label={`Restore ${path} as of ${v.versionedAt}`}
                      disabled={restore.running}
                      onClick={() =>
                        restore.run(async () => {
                          const r = await api<{ changed: boolean; replaced?: string }>(
                            'POST',
                            `/keys/${props.pubky}/versions/restore`,
                            {
                              path,
                              at: v.versionedAt,
                            },
                          );
                          return r.changed
                            ? `restored ${path}; the copy it replaced was kept as a version`
                            : `${path} already holds those bytes`;
                        })
                      }
                    >
                      Restore
                    </button>
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
      {byPath.length > shown.length && (
        <p class="muted">{byPath.length - shown.length} more files: narrow the filter.</p>
      )}
    </section>
  );
}
