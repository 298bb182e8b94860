// Our sync engine in its own process, driven by bench/sync.mjs over IPC, so its peak RSS and CPU
// are its own.
//
//   fork('bench/sync-child.mjs', [dataDir, pubky, downloadConcurrency])
//
// Messages in:  {cmd:'sync'} → one `syncOnce()`;  {cmd:'live'} → `run(signal)` (live mode);
//               {cmd:'stop'} → abort the live run and exit.
// Messages out: {type:'ready'}, {type:'progress'}, {type:'synced'}, {type:'live-started'},
//               {type:'stopped'}, {type:'error'}. Memory figures are KiB.
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DEFAULT_CONFIG } from '../dist/config/index.js';
import { SyncManager } from '../dist/sync/index.js';

const [dataDir, pubky, concurrencyText = '8'] = process.argv.slice(2);
if (!dataDir || !pubky || !process.send) {
  console.error('usage: fork("bench/sync-child.mjs", [dataDir, pubky, concurrency]) with an IPC channel');
  process.exit(2);
}

const send = (message) => process.send?.(message);

// Peaks of what makes up the RSS, sampled; the true peak RSS is getrusage's maxRSS.
const peak = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
const sample = () => {
  const usage = process.memoryUsage();
  for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], usage[key]);
};
const sampler = setInterval(sample, 100);

// Investigation only (`BENCH_HEAP_PROBE=<seconds>`, slows the run): a full GC that often, so the live
// heap (what is still reachable) is told from V8's headroom; `BENCH_HEAP_SNAPSHOT=<file>` writes a
// heap snapshot when the sync ends. The figures go to stderr.
const probe = { liveHeapPeak: 0, samples: [] };
const probeSeconds = Number(process.env.BENCH_HEAP_PROBE) || 1;
if (process.env.BENCH_HEAP_PROBE) {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  setInterval(() => {
    const before = process.memoryUsage();
    gc();
    const after = process.memoryUsage();
    probe.liveHeapPeak = Math.max(probe.liveHeapPeak, after.heapUsed);
    probe.samples.push(
      `heapUsed ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB after GC, heapTotal ${mb(after.heapTotal)}, rss ${mb(after.rss)}`,
    );
  }, probeSeconds * 1000).unref();
}
function mb(bytes) {
  return Math.round(bytes / 1048576);
}
const memory = () => {
  sample();
  return {
    maxRssKB: process.resourceUsage().maxRSS,
    sampledPeakKB: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v / 1024)])),
    cpuUserMs: Math.round(process.resourceUsage().userCPUTime / 1000),
    cpuSystemMs: Math.round(process.resourceUsage().systemCPUTime / 1000),
  };
};

const manager = await SyncManager.open({
  dataDir,
  config: { ...DEFAULT_CONFIG, downloadConcurrency: Number(concurrencyText) },
  pubkys: [pubky],
  locate: async () => {
    throw new Error('the bench pins the homeserver');
  },
});

let lastProgress = 0;
manager.on('progress', (_key, progress) => {
  const now = performance.now();
  if (now - lastProgress < 1000) return;
  lastProgress = now;
  send({ type: 'progress', ...progress });
});

let live;

process.on('message', async (message) => {
  try {
    if (message.cmd === 'sync') {
      const start = performance.now();
      const results = await manager.syncOnce();
      const ms = performance.now() - start;
      if (process.env.BENCH_HEAP_PROBE) {
        const every = Math.max(1, Math.ceil(probe.samples.length / 12));
        for (const [i, line] of probe.samples.entries())
          if (i % every === 0) console.error(`  probe at ${i * probeSeconds} s: ${line}`);
        console.error(`  probe: live heap peak ${mb(probe.liveHeapPeak)} MB`);
        probe.samples = [];
      }
      if (process.env.BENCH_HEAP_SNAPSHOT)
        console.error(
          `  heap snapshot: ${v8.writeHeapSnapshot(`${process.env.BENCH_HEAP_SNAPSHOT}-${process.pid}.heapsnapshot`)}`,
        );
      const errors = results.filter((r) => 'error' in r).map((r) => String(r.error?.message ?? r.error));
      send({ type: 'synced', ms, results: results.filter((r) => !('error' in r)), errors, ...memory() });
    } else if (message.cmd === 'live') {
      const controller = new AbortController();
      live = { controller, done: manager.run(controller.signal) };
      send({ type: 'live-started' });
    } else if (message.cmd === 'stop') {
      if (live) {
        live.controller.abort();
        await live.done;
      }
      clearInterval(sampler);
      send({ type: 'stopped', ...memory() });
      process.disconnect();
      // Leave through a normal exit so --cpu-prof can write its profile.
      setTimeout(() => process.exit(0), 200).unref();
    }
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.stack : String(error) });
  }
});

// The parent went away (crash, Ctrl-C): don't linger.
process.on('disconnect', () => {
  live?.controller.abort();
  setTimeout(() => process.exit(0), 500).unref();
});

send({ type: 'ready', ...memory() });
