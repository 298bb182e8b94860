import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, dispatchEvent, followEvents, RequestFailed } from './api.js';
import { KeyDetail } from './key-detail.js';
import { KeysPage } from './keys-page.js';
import type { Config, KeySummary } from './model.js';
import { Settings } from './settings.js';

interface Daemon {
  pid: number;
  version: string;
  dataDir: string;
  port: number;
  lastEventId: number;
}

/** Which page the hash names: `#/`, `#/key/<pubky>`, `#/settings`. */
function route(): { page: 'keys' } | { page: 'key'; pubky: string } | { page: 'settings' } {
  const hash = location.hash.replace(/^#/, '');
  const key = /^\/key\/([a-z0-9]+)$/.exec(hash);
  if (key) return { page: 'key', pubky: key[1] as string };
  if (hash === '/settings') return { page: 'settings' };
  return { page: 'keys' };
}

function App() {
  const [where, setWhere] = useState(route());
  const [keys, setKeys] = useState<KeySummary[] | undefined>();
  const [config, setConfig] = useState<Config | undefined>();
  const [daemon, setDaemon] = useState<Daemon | undefined>();
  const [failure, setFailure] = useState<RequestFailed | undefined>();
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const onHash = () => setWhere(route());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const refresh = async (): Promise<Daemon | undefined> => {
    try {
      const status = await api<{ daemon: Daemon; keys: KeySummary[] }>('GET', '/status');
      setDaemon(status.daemon);
      setKeys(status.keys);
      setConfig((await api<{ config: Config }>('GET', '/config')).config);
      setFailure(undefined);
      return status.daemon;
    } catch (error) {
      if (error instanceof RequestFailed) setFailure(error);
      return undefined;
    }
  };

  useEffect(() => {
    let stop: (() => void) | undefined;
    let closed = false;
    // Live from the state just read: progress updates rows at once; anything else re-reads the keys (batched).
    void refresh().then((first) => {
      if (!first || closed) return;
      stop = follow(first.lastEventId);
    });
    return () => {
      closed = true;
      stop?.();
    };
  }, []);

  const follow = (since: number) => {
    let pending: ReturnType<typeof setTimeout> | undefined;
    return followEvents(since, (event) => {
      dispatchEvent(event);
      if (event.type === 'SyncProgress') {
        const { pubky, done, total, bytes } = event.data as {
          pubky: string;
          done: number;
          total: number;
          bytes: number;
        };
        setKeys((current) =>
          current?.map((k) =>
            k.pubky === pubky ? { ...k, live: { state: 'syncing', done, total, bytes } } : k,
          ),
        );
        return;
      }
      setTick((n) => n + 1);
      if (pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        void refresh();
      }, 250);
    });
  };

  if (failure?.status === 401) {
    return (
      <section class="login">
        <h1>Pubky Backup</h1>
        <p>
          This dashboard needs a login link. On this computer, run <code>pubky-backup open</code> (or{' '}
          <code>pubky-backup open --print-url</code>) and follow the link it gives.
        </p>
      </section>
    );
  }
  return (
    <>
      <header>
        <a class="brand" href="#/">
          Pubky Backup
        </a>
        <nav aria-label="Main">
          <a href="#/" aria-current={where.page === 'keys' ? 'page' : undefined}>
            Pubkys
          </a>
          <a href="#/settings" aria-current={where.page === 'settings' ? 'page' : undefined}>
            Settings
          </a>
        </nav>
      </header>
      {failure && (
        <p role="alert" class="error">
          {failure.error.message}
        </p>
      )}
      {where.page === 'keys' && (
        <KeysPage keys={keys} pollSeconds={config?.syncIntervalSeconds} onChange={refresh} />
      )}
      {where.page === 'key' && (
        <KeyDetail
          pubky={where.pubky}
          summary={keys?.find((k) => k.pubky === where.pubky)}
          tick={tick}
          onChange={refresh}
        />
      )}
      {where.page === 'settings' && config && (
        <Settings config={config} dataDir={daemon?.dataDir} onChange={refresh} />
      )}
      <footer class="muted">
        {daemon ? `daemon pid ${daemon.pid} · ${daemon.version} · ${daemon.dataDir}` : ''}
      </footer>
    </>
  );
}

const root = document.getElementById('app') as HTMLElement;
root.textContent = ''; // the "Loading…" placeholder of index.html
render(<App />, root);
