// Idle daemon benchmark: the daemon following 100 pubkys on one testnet homeserver, idle for 60 s
// (its CPU and peak RSS), then 100 PUTs spread over the keys (time until each is on disk).
//
//   npm run bench:idle            (= npm run build && node bench/idle.mjs)
//   node bench/idle.mjs --keys 20 --idle 10 --puts 20     (quick run)
//
// Options: --keys N (default 100), --idle S (seconds, default 60), --puts N (default 100),
// --no-write (don't update BENCHMARKS.md), --profile DIR (CPU profile of the daemon into DIR). Everything runs on 127.0.0.1: the testnet in one child
// process (bench/testnet-server.mjs), the daemon in another (`pubky-backup daemon`).
import { fork, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { signAuthToken } from '../dist/homeserver/auth-token.js';
import { Keypair } from '../dist/identity/index.js';
import { KeyLayout, writeKeyConfig } from '../dist/store/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const GOAL_CPU_PERCENT = 1;
const GOAL_RSS_MB = 150;
const GOAL_P95_MS = 1000;

function parseArgs(argv) {
  const options = { keys: 100, idle: 60, puts: 100, write: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const number = () => Number(argv[++i]);
    if (arg === '--keys') options.keys = number();
    else if (arg === '--idle') options.idle = number();
    else if (arg === '--puts') options.puts = number();
    else if (arg === '--no-write') options.write = false;
    else if (arg === '--profile') options.profile = argv[++i];
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

/** user + system CPU seconds of a process, from /proc (clock ticks of 100 Hz on Linux). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function hwmMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function readyLine(child) {
  for await (const line of createInterface({ input: child.stdout }))
    if (line.startsWith('{')) return JSON.parse(line);
  throw new Error('child exited before it was ready');
}

async function signupUser(homeserver) {
  const keypair = Keypair.random();
  const response = await fetch(`${homeserver}/signup`, { method: 'POST', body: signAuthToken(keypair) });
  if (response.status !== 200) throw new Error(`signup ${response.status}`);
  return {
    keypair,
    z32: keypair.publicKey.z32,
    cookie: (response.headers.get('set-cookie') ?? '').split(';')[0],
  };
}

async function put(homeserver, user, path, body) {
  const response = await fetch(`${homeserver}${path}`, {
    method: 'PUT',
    headers: { 'pubky-host': user.z32, cookie: user.cookie },
    body,
  });
  if (response.status !== 201) throw new Error(`PUT ${response.status}`);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const work = await mkdtemp(join(os.tmpdir(), 'pubky-bench-idle-'));
  const testnet = fork(join(HERE, 'testnet-server.mjs'), [join(work, 'testnet')], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const { homeserver } = await readyLine(testnet);
  const dataDir = join(work, 'backup');
  const users = [];
  for (let i = 0; i < options.keys; i++) {
    const user = await signupUser(homeserver);
    await put(homeserver, user, '/pub/app/hello.txt', `hello ${i}`);
    const layout = new KeyLayout(dataDir, user.z32);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(layout.stateDir, { recursive: true });
    await writeKeyConfig(layout.keyConfigFile, {
      pubky: user.z32,
      addedAt: new Date().toISOString(),
      homeserverUrl: homeserver,
    });
    users.push(user);
  }
  const daemon = spawn(
    process.execPath,
    [
      ...(options.profile ? ['--cpu-prof', '--cpu-prof-dir', options.profile] : []),
      join(ROOT, 'dist/cli/main.js'),
      '--data-dir',
      dataDir,
      '--no-dht',
      '--json',
      'daemon',
      '--port',
      '0',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await readyLine(daemon);
  const synced = (user) => existsSync(join(dataDir, 'keys', user.z32, 'data/pub/app/hello.txt'));
  const started = performance.now();
  while (!users.every(synced)) {
    if (performance.now() - started > 120_000) throw new Error('the first sync did not finish');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // settle: live streams open

  const cpuBefore = cpuSeconds(daemon.pid);
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(daemon.pid));
  }, 500);
  await new Promise((resolve) => setTimeout(resolve, options.idle * 1000));
  const idleCpu = ((cpuSeconds(daemon.pid) - cpuBefore) / options.idle) * 100;
  const idleRss = peak;

  const latencies = [];
  for (let i = 0; i < options.puts; i++) {
    const user = users[i % users.length];
    const path = `/pub/app/live-${i}.txt`;
    const sent = performance.now();
    await put(homeserver, user, path, `live ${i}`);
    const file = join(dataDir, 'keys', user.z32, 'data', path);
    while (!existsSync(file)) {
      if (performance.now() - sent > 30_000) throw new Error(`${path} did not arrive`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    latencies.push(performance.now() - sent);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  clearInterval(sampler);
  const peakRss = Math.max(peak, hwmMb(daemon.pid));
  daemon.kill('SIGTERM');
  await new Promise((resolve) => daemon.on('exit', resolve));
  testnet.kill('SIGTERM');
  await rm(work, { recursive: true, force: true });

  const p95 = percentile(latencies, 95);
  const rows = [
    [
      'daemon CPU while idle (% of one core)',
      `${idleCpu.toFixed(2)} %`,
      `< ${GOAL_CPU_PERCENT} %`,
      idleCpu < GOAL_CPU_PERCENT,
    ],
    ['daemon RSS while idle', `${idleRss.toFixed(0)} MB`, `< ${GOAL_RSS_MB} MB`, idleRss < GOAL_RSS_MB],
    ['daemon peak RSS (whole run)', `${peakRss.toFixed(0)} MB`, `< ${GOAL_RSS_MB} MB`, peakRss < GOAL_RSS_MB],
    [
      `PUT → on disk, p50 / p95 over ${options.puts} PUTs`,
      `${percentile(latencies, 50).toFixed(0)} / ${p95.toFixed(0)} ms`,
      `p95 < ${GOAL_P95_MS} ms`,
      p95 < GOAL_P95_MS,
    ],
  ];
  const table = [
    `| measure (${options.keys} pubkys, idle ${options.idle} s) | measured | goal | met |`,
    '| --- | --- | --- | --- |',
    ...rows.map(([name, value, goal, met]) => `| ${name} | ${value} | ${goal} | ${met ? 'yes' : 'no'} |`),
  ].join('\n');
  console.log(table);
  if (options.write) await writeSection(table, options);
}

/** Replaces the "Idle daemon" section of BENCHMARKS.md with this run's table. */
async function writeSection(table, options) {
  const file = join(ROOT, 'BENCHMARKS.md');
  const text = await readFile(file, 'utf8');
  const load = os.loadavg()[0].toFixed(2);
  const section = [
    '## Idle daemon',
    '',
    `\`npm run bench:idle\` — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs, load ${load} when it ended. ` +
      `The daemon follows ${options.keys} pubkys on one testnet homeserver (live streams + the 30 s poll), idle for ${options.idle} s, then receives ${options.puts} PUTs spread over the keys.`,
    '',
    table,
    '',
  ].join('\n');
  const start = text.indexOf('## Idle daemon');
  const next = start === -1 ? -1 : text.indexOf('\n## ', start + 1);
  const updated =
    start === -1
      ? `${text.trimEnd()}\n\n${section}`
      : `${text.slice(0, start)}${section}${next === -1 ? '' : text.slice(next + 1)}`;
  await writeFile(file, updated);
}

await main();
