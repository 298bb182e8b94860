// Sync benchmark: initial backup throughput against curl, our peak memory, and live latency.
//
//   npm run bench                      (= npm run build && node bench/sync.mjs)
//   node bench/sync.mjs --files 500    (quick run)
//
// Options: --files N (default 10000), --small N (files of 100 B–4 KB for the second data set,
// default 100000; 0 skips it), --concurrency N (downloads, ours and curl's; default 8),
// --live N (live PUTs, default 200), --profile DIR (CPU profile of our sync children into DIR),
// --keep (leave the temp folder), --no-write (don't rewrite BENCHMARKS.md).
//
// Everything runs on 127.0.0.1: the testnet in one child process (bench/testnet-server.mjs), our
// sync in another (bench/sync-child.mjs), curl as a third. Results are ratios against curl in the
// same run, never absolute thresholds.
import { execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { signAuthToken } from '../dist/homeserver/auth-token.js';
import { HomeserverClient } from '../dist/homeserver/index.js';
import { Keypair } from '../dist/identity/index.js';
import { KeyLayout, writeKeyConfig } from '../dist/store/index.js';
import {
  blake3,
  bodyOf,
  cpuSeconds,
  curlQuote,
  encodePath,
  flushDisks,
  planFiles,
  prng,
  readTimeUsage,
} from './lib/data-set.mjs';
import { startTestnetServer } from './lib/testnet.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const SEED_CONCURRENCY = 16;
const LIVE_INTERVAL_MS = 50; // ~20 PUTs per second
const LIVE_TIMEOUT_MS = 15_000;
const SMALL_MIN_SIZE = 100;
const SMALL_MAX_SIZE = 4_000;
const GOAL_RATIO = 1.25;
const GOAL_CPU_RATIO = 2.5;
const GOAL_SMALL_RATIO = 1.5;
const GOAL_RSS_MB = 250;
const GOAL_P95_MS = 50;

// ---------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const options = {
    files: 10_000,
    small: 100_000,
    concurrency: 8,
    live: 200,
    profile: undefined,
    keep: false,
    write: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    const count = (name, min) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}`);
      return n;
    };
    if (arg === '--files') options.files = count('--files', 1);
    else if (arg === '--small') options.small = count('--small', 0);
    else if (arg === '--concurrency') options.concurrency = count('--concurrency', 1);
    else if (arg === '--live') options.live = count('--live', 0);
    else if (arg === '--profile') options.profile = value();
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--no-write') options.write = false;
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// Child processes and clean-up

const children = new Set();
let tempRoot;
let cleaning;
let interrupted = false;

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Forked children leave by themselves when their IPC channel closes.
  if (child.connected) child.disconnect();
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGTERM'), 2500);
  const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  clearTimeout(hard);
}

function cleanup(keep) {
  cleaning ??= (async () => {
    await Promise.all([...children].map((child) => stopChild(child).catch(() => {})));
    if (tempRoot && !keep) await rm(tempRoot, { recursive: true, force: true }).catch(() => {});
    else if (tempRoot) log(`kept ${tempRoot}`);
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    log(`\n${signal}: cleaning up`);
    cleanup(false).finally(() => process.exit(130));
  });
}

function log(text) {
  process.stderr.write(`${text}\n`);
}

/** Next IPC message of `type` from a forked child (rejects on an `error` message or exit). */
function nextMessage(child, type, timeoutMs = 3_600_000) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message.type === type) done(resolve, message);
      else if (message.type === 'error') done(reject, new Error(`child failed: ${message.message}`));
    };
    const onExit = (code, signal) =>
      done(reject, new Error(`child exited (${code ?? signal}) before ${type}`));
    const timer = setTimeout(() => done(reject, new Error(`no ${type} within ${timeoutMs} ms`)), timeoutMs);
    const done = (settle, value) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      settle(value);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const startServer = (dataDir) => startTestnetServer(dataDir, track);

/** Our sync child; under `/usr/bin/time -v` when that exists (a second opinion on peak RSS). */
function startSyncChild(backupDir, z32, options, timeFile) {
  const nodeFlags = options.profile ? ['--cpu-prof', '--cpu-prof-dir', options.profile] : [];
  const script = join(HERE, 'sync-child.mjs');
  const args = [backupDir, z32, String(options.concurrency)];
  const useTime = existsSync('/usr/bin/time');
  const child = useTime
    ? fork(script, args, {
        execPath: '/usr/bin/time',
        execArgv: ['-v', '-o', timeFile, process.execPath, ...nodeFlags],
      })
    : fork(script, args, { execArgv: nodeFlags });
  child.on('message', (message) => {
    if (message.type === 'progress' && !child.quiet) {
      log(`  ours: ${message.done}/${message.total} files, ${mb(message.bytes)} MB`);
    }
  });
  return { child: track(child), useTime };
}

// ---------------------------------------------------------------------------------------------
// Data set

async function signup(server) {
  const keypair = Keypair.random();
  const response = await fetch(`${server.homeserver}/signup`, {
    method: 'POST',
    headers: { 'pubky-host': server.homeserverKey },
    body: signAuthToken(keypair),
  });
  if (response.status !== 200) throw new Error(`signup: ${response.status} ${await response.text()}`);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { z32: keypair.publicKey.z32, cookie };
}

/** PUT through our own client (keep-alive pool): seeding 100,000 files with `fetch` takes minutes. */
const seedClients = new Map();
async function put(server, user, path, body) {
  let client = seedClients.get(server.homeserver);
  if (!client) {
    client = new HomeserverClient({ baseUrl: server.homeserver });
    seedClients.set(server.homeserver, client);
  }
  await client.put({ user: user.z32, cookie: user.cookie }, path, body);
}

async function seed(server, user, files, spotChecks) {
  const hashes = new Map();
  let next = 0;
  let done = 0;
  let lastLog = performance.now();
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      const body = bodyOf(file);
      if (spotChecks.has(file.index)) hashes.set(file.index, await blake3(body));
      await put(server, user, file.path, body);
      done++;
      if (performance.now() - lastLog > 2000) {
        lastLog = performance.now();
        log(`  seeded ${done}/${files.length}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEED_CONCURRENCY, files.length) }, worker));
  return hashes;
}

/** Indexes to check byte by byte: first, last, smallest, largest, an encoded name, a few more. */
function pickSpotChecks(files) {
  const bySize = [...files].sort((a, b) => a.size - b.size);
  const picks = new Set([0, files.length - 1, bySize[0].index, bySize.at(-1).index]);
  const encoded = files.find((f) => f.path.includes(' '));
  if (encoded) picks.add(encoded.index);
  const random = prng(7);
  while (picks.size < Math.min(10, files.length)) picks.add(Math.floor(random() * files.length));
  return picks;
}

// ---------------------------------------------------------------------------------------------
// Measurements

async function runCurl(server, user, files, outDir, configFile, concurrency, timeFile) {
  const lines = [];
  for (const file of files) {
    lines.push(`url = ${curlQuote(`${server.homeserver}${encodePath(file.path)}`)}`);
    lines.push(`output = ${curlQuote(join(outDir, ...file.path.split('/')))}`);
  }
  await writeFile(configFile, `${lines.join('\n')}\n`);
  const args = [
    '--parallel',
    '--parallel-max',
    String(concurrency),
    '-s',
    '-S',
    '--no-progress-meter',
    '--fail',
    '--create-dirs',
    '-H',
    `pubky-host: ${user.z32}`,
    '-K',
    configFile,
  ];
  // Under /usr/bin/time (when present) for curl's own CPU time and peak RSS; it adds no measurable time.
  const useTime = existsSync('/usr/bin/time');
  const [command, commandArgs] = useTime
    ? ['/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, 'curl', ...args]]
    : ['curl', args];
  flushDisks();
  const serverCpu = await cpuSeconds(server.pid);
  const start = performance.now();
  const child = track(spawn(command, commandArgs, { stdio: ['ignore', 'ignore', 'inherit'] }));
  const code = await new Promise((resolve) => child.once('exit', (c, s) => resolve(c ?? s)));
  const ms = performance.now() - start;
  const serverCpuS = (await cpuSeconds(server.pid)) - serverCpu;
  if (code !== 0) throw new Error(`curl exited with ${code}`);
  const { cpuS, maxRssKB } = useTime ? await readTimeUsage(timeFile) : {};
  return { ms, serverCpuS, cpuS, maxRssKB };
}

async function runOurs(server, user, backupDir, options, timeFile) {
  const layout = new KeyLayout(backupDir, user.z32);
  await mkdir(layout.stateDir, { recursive: true });
  await writeKeyConfig(layout.keyConfigFile, {
    pubky: user.z32,
    addedAt: new Date().toISOString(),
    homeserverUrl: server.homeserver,
  });
  const sync = startSyncChild(backupDir, user.z32, options, timeFile);
  const ready = await nextMessage(sync.child, 'ready', 60_000);
  flushDisks();
  const serverCpu = await cpuSeconds(server.pid);
  const start = performance.now();
  sync.child.send({ cmd: 'sync' });
  const synced = await nextMessage(sync.child, 'synced');
  const ms = performance.now() - start;
  synced.serverCpuS = (await cpuSeconds(server.pid)) - serverCpu;
  if (synced.errors.length > 0) throw new Error(`our sync failed: ${synced.errors.join('; ')}`);
  return { ms, ready, synced, sync, layout };
}

/** Every file under `dir`: relative path (with `/`) → size. */
async function walk(dir) {
  const result = new Map();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath ?? entry.path, entry.name);
    result.set(relative(dir, full).split(sep).join('/'), (await stat(full)).size);
  }
  return result;
}

async function verifyCopy(label, dir, files, hashes) {
  const found = await walk(dir);
  let bytes = 0;
  for (const size of found.values()) bytes += size;
  const problems = [];
  for (const file of files) {
    const size = found.get(file.path.slice(1));
    if (size === undefined) problems.push(`${file.path} missing`);
    else if (size !== file.size) problems.push(`${file.path} has ${size} bytes, not ${file.size}`);
  }
  for (const [index, expected] of hashes) {
    const file = files[index];
    const actual = await blake3(
      await readFile(join(dir, ...file.path.split('/'))).catch(() => Buffer.alloc(0)),
    );
    if (actual !== expected) problems.push(`${file.path}: BLAKE3 ${actual} ≠ ${expected}`);
  }
  if (problems.length > 0) {
    log(`${label}: ${problems.length} problems, first: ${problems.slice(0, 5).join('; ')}`);
  }
  return { count: found.size, bytes, problems: problems.length };
}

async function spotCompare(curlDir, oursDir, files, picks) {
  let equal = 0;
  for (const index of picks) {
    const parts = files[index].path.split('/');
    const [a, b] = await Promise.all([readFile(join(curlDir, ...parts)), readFile(join(oursDir, ...parts))]);
    if (a.equals(b)) equal++;
  }
  return equal;
}

async function measureLive(server, user, sync, layout, count) {
  const dataDir = join(layout.keyDir, 'data');
  const waitFor = (path, size, timeoutMs = LIVE_TIMEOUT_MS) =>
    new Promise((resolve) => {
      const file = join(dataDir, ...path.split('/'));
      const started = performance.now();
      const timer = setInterval(() => {
        let found;
        try {
          found = statSync(file).size === size;
        } catch {}
        if (found) {
          clearInterval(timer);
          resolve(performance.now());
        } else if (performance.now() - started > timeoutMs) {
          clearInterval(timer);
          resolve(undefined);
        }
      }, 5);
    });
  const bodyFor = (i) => Buffer.from(`live file ${i} `.repeat(20 + (i % 50)));

  sync.child.quiet = true; // live catch-ups report progress too: not worth a line each
  sync.child.send({ cmd: 'live' });
  await nextMessage(sync.child, 'live-started', 60_000);
  // Warm up: the first file may come through run()'s initial catch-up; the second is live.
  for (let i = 0; i < 2; i++) {
    const path = `/pub/bench-live/warmup-${i}.txt`;
    const body = bodyFor(i);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await put(server, user, path, body);
    if ((await waitFor(path, body.length, 30_000)) === undefined) {
      throw new Error('live mode did not pick up the warm-up file within 30 s');
    }
  }

  const latencies = [];
  let missed = 0;
  const pending = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + i * LIVE_INTERVAL_MS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const path = `/pub/bench-live/${String(i).padStart(4, '0')}.txt`;
    const body = bodyFor(i);
    await put(server, user, path, body);
    const created = performance.now();
    pending.push(
      waitFor(path, body.length).then((seen) => {
        if (seen === undefined) missed++;
        else latencies.push(seen - created);
      }),
    );
  }
  await Promise.all(pending);
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  return {
    count,
    missed,
    rate: count / seconds,
    p50: pct(50),
    p95: pct(95),
    max: latencies.at(-1),
    mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
  };
}

function readTimeFile(file) {
  return readFile(file, 'utf8')
    .then((text) => {
      const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
      return match ? Number(match[1]) : undefined;
    })
    .catch(() => undefined);
}

async function serverPeakRssKB(pid) {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const mb = (bytes) => (bytes / 1e6).toFixed(1);
const secs = (ms) => (ms / 1000).toFixed(2);
const verdict = (ok) => (ok ? '✅' : '❌');

function machineFacts() {
  const curl = (() => {
    try {
      return execFileSync('curl', ['--version'], { encoding: 'utf8' })
        .split('\n')[0]
        .split(' ')
        .slice(0, 2)
        .join(' ');
    } catch {
      return 'curl ?';
    }
  })();
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    ramGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    curl,
  };
}

const ratioCell = (x) => (x === undefined || Number.isNaN(x) ? '?' : x.toFixed(2));

/** CPU seconds (user + system) of curl per run: the mean of its runs before and after ours. */
function curlCpu(set) {
  const runs = [set.curl.before.cpuS, set.curl.after.cpuS].filter((x) => x !== undefined);
  return runs.length === 0 ? undefined : runs.reduce((a, b) => a + b, 0) / runs.length;
}

function oursCpu(set) {
  return (set.ours.cpuUserMs + set.ours.cpuSystemMs) / 1000;
}

function table(r) {
  const a = r.main;
  const gb = a.totalBytes / 1e9;
  const cpuCurl = curlCpu(a);
  const cpuOurs = oursCpu(a);
  const cpuRatio = cpuCurl === undefined ? undefined : cpuOurs / cpuCurl;
  const rows = [
    [
      `initial backup, ${a.files} files 1 KB–1 MB (${mb(a.totalBytes)} MB): wall time vs \`curl --parallel --parallel-max ${r.concurrency}\``,
      `${secs(a.ours.ms)} s`,
      `${secs(a.curl.ms)} s (${secs(a.curl.before.ms)} / ${secs(a.curl.after.ms)})`,
      ratioCell(a.ratio),
      `≤ ${GOAL_RATIO}`,
      verdict(a.ratio <= GOAL_RATIO),
    ],
    [
      'same, client CPU seconds per GB (user + system; homeserver CPU beside it)',
      `${(cpuOurs / gb).toFixed(2)} s/GB (homeserver ${(a.ours.serverCpuS / gb).toFixed(2)})`,
      cpuCurl === undefined
        ? '?'
        : `${(cpuCurl / gb).toFixed(2)} s/GB (homeserver ${(a.curl.serverCpuS / gb).toFixed(2)})`,
      ratioCell(cpuRatio),
      `≤ ${GOAL_CPU_RATIO}`,
      cpuRatio === undefined ? '' : verdict(cpuRatio <= GOAL_CPU_RATIO),
    ],
    [
      'same, our peak RSS',
      `${(a.ours.maxRssKB / 1024).toFixed(0)} MB`,
      a.curl.maxRssKB === undefined ? '' : `${(a.curl.maxRssKB / 1024).toFixed(0)} MB`,
      '',
      `< ${GOAL_RSS_MB} MB`,
      verdict(a.ours.maxRssKB / 1024 < GOAL_RSS_MB),
    ],
  ];
  const b = r.small;
  if (b) {
    rows.push(
      [
        `initial backup, ${b.files} small files 100 B–4 KB (${mb(b.totalBytes)} MB): wall time vs curl`,
        `${secs(b.ours.ms)} s`,
        `${secs(b.curl.ms)} s (${secs(b.curl.before.ms)} / ${secs(b.curl.after.ms)})`,
        ratioCell(b.ratio),
        `≤ ${GOAL_SMALL_RATIO}`,
        verdict(b.ratio <= GOAL_SMALL_RATIO),
      ],
      [
        'same, our peak RSS',
        `${(b.ours.maxRssKB / 1024).toFixed(0)} MB`,
        b.curl.maxRssKB === undefined ? '' : `${(b.curl.maxRssKB / 1024).toFixed(0)} MB`,
        '',
        `< ${GOAL_RSS_MB} MB`,
        verdict(b.ours.maxRssKB / 1024 < GOAL_RSS_MB),
      ],
    );
  }
  if (a.live) {
    rows.push([
      `live PUT → verified file on disk, ${a.live.count} PUTs at ${a.live.rate.toFixed(1)}/s: p95 (p50, max, missed)`,
      `${a.live.p95?.toFixed(0)} ms (${a.live.p50?.toFixed(0)}, ${a.live.max?.toFixed(0)}, ${a.live.missed})`,
      '',
      '',
      `≤ ${GOAL_P95_MS} ms`,
      verdict(a.live.p95 <= GOAL_P95_MS && a.live.missed === 0),
    ]);
  }
  const checks = [a, b].filter(Boolean);
  rows.push([
    'copies complete (count, bytes, spot BLAKE3)',
    checks.map((set) => `ours ${set.oursCheck.count} / ${set.oursCheck.bytes} B`).join('; '),
    checks.map((set) => `curl ${set.curlCheck.count} / ${set.curlCheck.bytes} B`).join('; '),
    checks.map((set) => `${set.spotEqual}/${set.spotTotal} spot`).join('; '),
    'equal',
    verdict(checks.every((set) => set.complete)),
  ]);
  return [
    '| measure | ours | baseline (curl) | ratio | goal | |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function details(r) {
  const cpu = (seconds) => (seconds === undefined || Number.isNaN(seconds) ? '?' : `${seconds.toFixed(1)} s`);
  const lines = [];
  for (const [label, set] of [
    [`${r.main.files} files`, r.main],
    [`${r.small?.files} small files`, r.small],
  ]) {
    if (!set) continue;
    const s = set.ours.sampledPeakKB;
    lines.push(
      `- ${label}: CPU during the timed phases (user + system): curl ${cpu(set.curl.before.cpuS)} / ${cpu(set.curl.after.cpuS)} ` +
        `(before / after ours) with the homeserver at ${cpu(set.curl.serverCpuS)}; ours ${cpu(oursCpu(set))} ` +
        `(${set.ours.cpuUserMs} ms user + ${set.ours.cpuSystemMs} ms system, ` +
        `${((oursCpu(set) * 1000 * 100) / set.ours.ms).toFixed(0)} % of one core) with the homeserver at ${cpu(set.ours.serverCpuS)}; ` +
        `sampled peaks: heap used ${(s.heapUsed / 1024).toFixed(0)} MB, external ${(s.external / 1024).toFixed(0)} MB, ` +
        `array buffers ${(s.arrayBuffers / 1024).toFixed(0)} MB; RSS right after start ${(set.ours.startRssKB / 1024).toFixed(0)} MB; ` +
        `syncOnce inside the child ${secs(set.ours.childMs)} s; seeding took ${secs(set.seedMs)} s`,
    );
    if (set.ours.timeRssKB !== undefined) {
      lines.push(
        `- ${label}: /usr/bin/time -v maximum RSS of our sync child over its whole life: ${(set.ours.timeRssKB / 1024).toFixed(0)} MB`,
      );
    }
  }
  if (r.serverRssKB !== undefined)
    lines.push(`- homeserver child peak RSS: ${(r.serverRssKB / 1024).toFixed(0)} MB`);
  return lines.join('\n');
}

const METHOD = `Method: one run of \`bench/sync.mjs\`. A testnet (pkarr relay + homeserver emulator, folder storage in a temp directory) runs in its own child process. A user is signed up and seeded over HTTP (16 PUTs in flight) with N files whose sizes are log-uniform between 1 kB and 1 MB from a fixed seed (100 files per folder; every 97th name has a space, accents, \`#\` and \`%\`, so it must be percent-encoded); a second user likewise with the small files (100 B – 4 kB). \`sync\` is run before each timed phase so earlier dirty pages do not slow it. Baseline: \`curl --parallel --parallel-max 8 --fail --create-dirs -H 'pubky-host: …' -K <config>\` fetching exactly the same URLs into a temp folder (no fsync), run once before and once after ours; the baseline time is the mean of the two (both are shown, so a drifting machine load is visible), and its CPU time is the mean of both runs' user + system time (\`/usr/bin/time\`). Ours: a fresh backup folder with the key pinned to the homeserver URL, \`SyncManager.open({ downloadConcurrency: 8 })\` and one \`syncOnce()\` in a child process (timed from the parent around the IPC round trip; process start and open are excluded, curl's process start is included); its CPU is the child's \`process.resourceUsage()\` over the sync. Each copy is then checked file by file (every expected path present with the right size, totals equal) and spot-checked by BLAKE3 against the seeded bytes, plus byte-equal between the two copies. Peak RSS is \`process.resourceUsage().maxRSS\` of the sync child right after the initial sync. Live: the first child then runs \`manager.run(signal)\` (live \`/events-stream\`); after two warm-up files, the parent PUTs small files one at a time every ${LIVE_INTERVAL_MS} ms and polls \`fs.stat\` every 5 ms for \`keys/<z32>/data/pub/…\` with the full size, measuring from the PUT's 201 to the file's appearance. All traffic is on 127.0.0.1; client and server share this machine's CPUs.`;

async function writeReport(r, options, facts) {
  const file = join(ROOT, 'BENCHMARKS.md');
  const marker = '<!-- notes: everything below this line is kept when the bench rewrites the file -->';
  let notes = '';
  try {
    const old = await readFile(file, 'utf8');
    const at = old.indexOf(marker);
    if (at !== -1) notes = old.slice(at + marker.length);
  } catch {}
  const command =
    options.files === 10_000 && options.small === 100_000
      ? '`npm run bench` (= `--files 10000 --small 100000`)'
      : `\`node bench/sync.mjs --files ${options.files} --small ${options.small}\``;
  const text = `# Benchmarks

Generated by \`bench/sync.mjs\` (sync) and \`bench/snapshot.mjs\` (snapshots, further down); rerun with \`npm run bench\` and \`npm run bench:snapshot\` (quick: \`node bench/sync.mjs --files 500 --small 5000\`).

## Sync: initial backup vs curl, CPU, memory, live latency

- Date: ${new Date().toISOString()}; load average before the run (1/5/15 min): ${r.loadBefore}
- Machine: ${facts.nproc} CPUs (\`nproc\`), ${facts.cpu}, ${facts.ramGiB} GiB RAM, ${facts.os}
- Node ${facts.node}, ${facts.curl}, BLAKE3 ${r.blake3Backend}
- Command: ${command}, --concurrency ${options.concurrency}, --live ${options.live}

${table(r)}

${details(r)}

${METHOD}

${marker}${notes || '\n'}`;
  await writeFile(file, text);
  return file;
}

// ---------------------------------------------------------------------------------------------
// Main

/**
 * One data set: seed it, curl before, our initial sync in a fresh child, curl after, check both
 * copies; with `live`, the live latency phase in the same child afterwards.
 */
async function runDataSet(server, files, options, tempRoot, label, live) {
  const user = await signup(server);
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  log(`${label}: seeding ${files.length} files, ${mb(totalBytes)} MB (${totalBytes} bytes)`);
  const picks = pickSpotChecks(files);
  const seedStart = performance.now();
  const hashes = await seed(server, user, files, picks);
  const seedMs = performance.now() - seedStart;
  log(`  seeded in ${secs(seedMs)} s`);
  const curlDir = join(tempRoot, `${label}-curl`);
  const backupDir = join(tempRoot, `${label}-backup`);
  const timeFile = join(tempRoot, `${label}-time.txt`);
  await Promise.all([mkdir(curlDir), mkdir(backupDir)]);

  const curlRun = (dir, when) => {
    log(`  curl (${when}): ${files.length} GETs, --parallel-max ${options.concurrency}`);
    return runCurl(
      server,
      user,
      files,
      dir,
      join(tempRoot, 'curl.cfg'),
      options.concurrency,
      join(tempRoot, 'curl-time.txt'),
    );
  };
  // The baseline brackets our run (before and after), so drift in the machine's load shows up as a
  // gap between the two curl times instead of silently skewing the ratio.
  const curlBefore = await curlRun(curlDir, 'before');
  log(`    curl: ${secs(curlBefore.ms)} s`);
  log(`  ours: syncOnce, downloadConcurrency ${options.concurrency}`);
  const ours = await runOurs(server, user, backupDir, options, timeFile);
  log(`    ours: ${secs(ours.ms)} s, peak RSS ${(ours.synced.maxRssKB / 1024).toFixed(0)} MB`);
  const curlAfterDir = join(tempRoot, `${label}-curl-after`);
  await mkdir(curlAfterDir);
  const curlAfter = await curlRun(curlAfterDir, 'after');
  log(`    curl: ${secs(curlAfter.ms)} s`);
  const curlAfterCheck = await verifyCopy('curl (after)', curlAfterDir, files, new Map());
  await rm(curlAfterDir, { recursive: true, force: true });
  const curl = {
    ms: (curlBefore.ms + curlAfter.ms) / 2,
    before: curlBefore,
    after: curlAfter,
    serverCpuS: (curlBefore.serverCpuS + curlAfter.serverCpuS) / 2,
    maxRssKB: Math.max(curlBefore.maxRssKB ?? 0, curlAfter.maxRssKB ?? 0) || undefined,
  };
  const oursData = join(ours.layout.keyDir, 'data');
  const [curlCheck, oursCheck] = await Promise.all([
    verifyCopy('curl', curlDir, files, hashes),
    verifyCopy('ours', oursData, files, hashes),
  ]);
  const spotEqual = await spotCompare(curlDir, oursData, files, picks);
  await rm(curlDir, { recursive: true, force: true });
  const complete =
    curlAfterCheck.problems === 0 &&
    curlAfterCheck.bytes === totalBytes &&
    curlCheck.problems === 0 &&
    oursCheck.problems === 0 &&
    curlCheck.count === files.length &&
    oursCheck.count === files.length &&
    curlCheck.bytes === totalBytes &&
    oursCheck.bytes === totalBytes &&
    spotEqual === picks.size;

  let liveResult;
  if (live > 0) {
    log(`  live: ${live} PUTs, one every ${LIVE_INTERVAL_MS} ms`);
    liveResult = await measureLive(server, user, ours.sync, ours.layout, live);
    log(
      `    live: p50 ${liveResult.p50?.toFixed(0)} ms, p95 ${liveResult.p95?.toFixed(0)} ms, max ${liveResult.max?.toFixed(0)} ms`,
    );
  }
  ours.sync.child.send({ cmd: 'stop' });
  await nextMessage(ours.sync.child, 'stopped', 30_000);
  await new Promise((resolve) => {
    if (ours.sync.child.exitCode !== null) resolve();
    else ours.sync.child.once('exit', resolve);
  });
  const timeRssKB = ours.sync.useTime ? await readTimeFile(timeFile) : undefined;
  await rm(backupDir, { recursive: true, force: true });
  return {
    files: files.length,
    totalBytes,
    seedMs,
    curl,
    ours: {
      ms: ours.ms,
      childMs: ours.synced.ms,
      maxRssKB: ours.synced.maxRssKB,
      startRssKB: ours.ready.maxRssKB,
      sampledPeakKB: ours.synced.sampledPeakKB,
      cpuUserMs: ours.synced.cpuUserMs - ours.ready.cpuUserMs,
      cpuSystemMs: ours.synced.cpuSystemMs - ours.ready.cpuSystemMs,
      serverCpuS: ours.synced.serverCpuS,
      timeRssKB,
    },
    ratio: ours.ms / curl.ms,
    curlCheck,
    oursCheck,
    spotEqual,
    spotTotal: picks.size,
    complete,
    live: liveResult,
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const facts = machineFacts();
  const loadBefore = os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
  tempRoot = await mkdtemp(join(os.tmpdir(), 'pubky-bench-'));
  if (options.profile) await mkdir(options.profile, { recursive: true });
  const server = await startServer(join(tempRoot, 'server'));
  log(`testnet: ${server.homeserver} (pid ${server.pid}), temp ${tempRoot}, load ${loadBefore}`);

  const main = await runDataSet(server, planFiles(options.files), options, tempRoot, 'main', options.live);
  const small =
    options.small > 0
      ? await runDataSet(
          server,
          planFiles(options.small, {
            folder: 'small',
            min: SMALL_MIN_SIZE,
            max: SMALL_MAX_SIZE,
            seed: 0x5ead,
          }),
          options,
          tempRoot,
          'small',
          0,
        )
      : undefined;
  const { blake3Backend } = await import('../dist/util/blake3.js');
  const result = {
    main,
    small,
    concurrency: options.concurrency,
    serverRssKB: await serverPeakRssKB(server.pid),
    loadBefore,
    blake3Backend: blake3Backend(),
  };
  const markdown = table(result);
  console.log(`\n${markdown}\n\n${details(result)}\n`);
  if (options.write) log(`wrote ${await writeReport(result, options, facts)}`);
  if (!main.complete || (small && !small.complete)) process.exitCode = 1;
  return options;
}

let keep = false;
try {
  keep = parseArgs(process.argv.slice(2)).keep;
  await main();
} catch (error) {
  if (!interrupted) log(`bench failed: ${error instanceof Error ? error.stack : error}`);
  process.exitCode = 1;
} finally {
  await cleanup(keep);
}
