// Restore benchmark: `pubky-backup restore` of a 10,000-file backup to a testnet homeserver against
// `curl --parallel --parallel-max 8 -T` of the same files, and `pubky-backup verify` of that backup
// against listing + HEAD with curl. Same run, same machine, same homeserver: ratios, not thresholds.
//
//   npm run bench:restore                   (= npm run build && node bench/restore.mjs)
//   node bench/restore.mjs --files 500      (quick run)
//
// Options: --files N (default 10000), --concurrency N (ours and curl's; default 8), --keep (leave
// the temp folder), --no-write (don't rewrite the restore section of BENCHMARKS.md), --profile DIR
// (CPU profiles of our restore and verify processes into DIR).
//
// Everything runs on 127.0.0.1 in child processes: the testnet (bench/testnet-server.mjs, folder
// storage), our CLI (under /usr/bin/time -v for its peak RSS when that exists), and curl.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { signAuthToken } from '../dist/homeserver/auth-token.js';
import { Keypair } from '../dist/identity/index.js';
import { FileIndex, KeyLayout, storePathOf, writeKeyConfig } from '../dist/store/index.js';
import {
  blake3,
  bodyOf,
  cpuSeconds,
  curlQuote,
  encodePath,
  flushDisks,
  planFiles,
  readTimeUsage,
} from './lib/data-set.mjs';
import { startTestnetServer } from './lib/testnet.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const BIN = join(ROOT, 'dist/cli/main.js');
const GOAL_RESTORE_RATIO = 1.25;
const GOAL_VERIFY_RATIO = 1.5;
const GOAL_RSS_MB = 250;
const LIST_PAGE = 1000;
const START_MARK = '<!-- restore-bench:start -->';
const END_MARK = '<!-- restore-bench:end -->';

function parseArgs(argv) {
  const options = { files: 10_000, concurrency: 8, keep: false, write: true, profile: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const count = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${arg} needs a whole number ≥ 1`);
      return n;
    };
    if (arg === '--files') options.files = count();
    else if (arg === '--concurrency') options.concurrency = count();
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--no-write') options.write = false;
    else if (arg === '--profile') options.profile = argv[++i];
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------
// Child processes and clean-up

const children = new Set();
let tempRoot;
let cleaning;

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function cleanup(keep) {
  cleaning ??= (async () => {
    for (const child of children) {
      if (child.connected) child.disconnect();
      child.kill('SIGTERM');
    }
    if (tempRoot && !keep) await rm(tempRoot, { recursive: true, force: true }).catch(() => {});
    else if (tempRoot) log(`kept ${tempRoot}`);
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`\n${signal}: cleaning up`);
    cleanup(false).finally(() => process.exit(130));
  });
}

function log(text) {
  process.stderr.write(`${text}\n`);
}

const startServer = (dataDir) => startTestnetServer(dataDir, track);

/** Runs a command to its end: wall time, exit code, stdout, and /usr/bin/time's CPU and peak RSS. */
async function timed(command, args, { timeFile, stdout = 'ignore' } = {}) {
  const useTime = timeFile !== undefined && existsSync('/usr/bin/time');
  const [file, argv] = useTime
    ? ['/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, command, ...args]]
    : [command, args];
  const child = track(spawn(file, argv, { stdio: ['ignore', stdout, 'inherit'] }));
  let out = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  const start = performance.now();
  const code = await new Promise((resolve) => child.once('exit', (c, s) => resolve(c ?? s)));
  const ms = performance.now() - start;
  const { cpuS, maxRssKB } = useTime ? await readTimeUsage(timeFile) : {};
  return { ms, code, stdout: out, cpuS, maxRssKB };
}

/**
 * A backup of `files` as `sync` would have left it: `data/` (store names), `state/index.jsonl`
 * (size, BLAKE3), `key.json` pinned to the homeserver. Returns each file's place on disk.
 */
async function makeBackup(backupDir, keypair, files, homeserver) {
  const layout = new KeyLayout(backupDir, keypair.publicKey.z32);
  await mkdir(layout.stateDir, { recursive: true });
  await writeKeyConfig(layout.keyConfigFile, {
    pubky: keypair.publicKey.z32,
    addedAt: new Date().toISOString(),
    homeserverUrl: homeserver,
  });
  const index = await FileIndex.open(layout.indexFile);
  for (const file of files) {
    file.local = join(layout.keyDir, storePathOf(file.path.slice(1).split('/')));
    await mkdir(dirname(file.local), { recursive: true });
    const body = bodyOf(file);
    await writeFile(file.local, body);
    file.blake3 = await blake3(body);
    index.set({ path: file.path, size: file.size, blake3: file.blake3, cursor: '0' });
  }
  await index.flush();
  return layout;
}

async function signup(server, keypair) {
  const response = await fetch(`${server.homeserver}/signup`, {
    method: 'POST',
    headers: { 'pubky-host': server.homeserverKey },
    body: signAuthToken(keypair),
  });
  if (response.status !== 200) throw new Error(`signup: ${response.status} ${await response.text()}`);
  return { z32: keypair.publicKey.z32, cookie: (response.headers.get('set-cookie') ?? '').split(';')[0] };
}

// ---------------------------------------------------------------------------------------------
// Measurements

async function curlUpload(server, files, concurrency, dir, label) {
  const user = await signup(server, Keypair.random());
  const lines = [];
  for (const file of files) {
    lines.push(`upload-file = ${curlQuote(file.local)}`);
    lines.push(`url = ${curlQuote(`${server.homeserver}${encodePath(file.path)}`)}`);
  }
  const config = join(dir, `curl-${label}.cfg`);
  await writeFile(config, `${lines.join('\n')}\n`);
  flushDisks();
  const serverCpu = await cpuSeconds(server.pid);
  log(`curl (${label}): ${files.length} PUTs, --parallel-max ${concurrency}`);
  const run = await timed(
    'curl',
    [
      '--parallel',
      '--parallel-max',
      String(concurrency),
      '-s',
      '-S',
      '--no-progress-meter',
      '--fail',
      '-H',
      `pubky-host: ${user.z32}`,
      '-H',
      `cookie: ${user.cookie}`,
      '-K',
      config,
    ],
    { timeFile: join(dir, `curl-${label}.time`) },
  );
  if (run.code !== 0) throw new Error(`curl exited with ${run.code}`);
  run.serverCpuS = (await cpuSeconds(server.pid)) - serverCpu;
  run.user = user.z32;
  log(`  curl: ${secs(run.ms)} s`);
  return run;
}

/** Node flags for our CLI: a CPU profile with `--profile DIR`. */
let nodeFlags = [];

async function oursRestore(server, backupDir, keyFile, pubky, concurrency, dir) {
  flushDisks();
  const serverCpu = await cpuSeconds(server.pid);
  log(`ours: pubky-backup restore --concurrency ${concurrency}`);
  const run = await timed(
    process.execPath,
    [
      ...nodeFlags,
      BIN,
      '--data-dir',
      backupDir,
      '--json',
      'restore',
      pubky,
      '--to',
      server.homeserver,
      '--secret-key-file',
      keyFile,
      '--concurrency',
      String(concurrency),
    ],
    { timeFile: join(dir, 'ours-restore.time'), stdout: 'pipe' },
  );
  run.serverCpuS = (await cpuSeconds(server.pid)) - serverCpu;
  run.summary = JSON.parse(run.stdout.trim().split('\n').at(-1));
  if (run.code !== 0) throw new Error(`our restore exited with ${run.code}: ${run.stdout}`);
  log(`  ours: ${secs(run.ms)} s, peak RSS ${mbOf(run.maxRssKB)} MB`);
  return run;
}

/** Listing (pages of 1000, one curl each: each page needs the last line of the previous) + HEADs. */
async function curlListAndHead(server, pubky, concurrency, dir, label) {
  log(`curl (${label}): listing + HEAD`);
  const start = performance.now();
  const paths = [];
  let cursor;
  for (;;) {
    const query = `limit=${LIST_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await timed(
      'curl',
      ['-s', '-S', '--fail', '-H', `pubky-host: ${pubky}`, `${server.homeserver}/pub/?${query}`],
      { stdout: 'pipe' },
    );
    if (page.code !== 0) throw new Error(`curl listing exited with ${page.code}`);
    const lines = page.stdout.split('\n').filter(Boolean);
    paths.push(...lines.map((line) => line.slice(`pubky://${pubky}`.length)));
    if (lines.length < LIST_PAGE) break;
    cursor = lines.at(-1);
  }
  const config = join(dir, `curl-head-${label}.cfg`);
  await writeFile(
    config,
    `${paths.map((p) => `url = ${curlQuote(`${server.homeserver}${encodePath(p)}`)}\noutput = "/dev/null"`).join('\n')}\n`,
  );
  const heads = await timed('curl', [
    '--parallel',
    '--parallel-max',
    String(concurrency),
    '-s',
    '-S',
    '--no-progress-meter',
    '--fail',
    '-I',
    '-H',
    `pubky-host: ${pubky}`,
    '-K',
    config,
  ]);
  if (heads.code !== 0) throw new Error(`curl HEADs exited with ${heads.code}`);
  const ms = performance.now() - start;
  log(`  curl: ${paths.length} listed + HEAD in ${secs(ms)} s`);
  return { ms, listed: paths.length };
}

async function oursVerify(server, backupDir, pubky, dir) {
  log('ours: pubky-backup verify');
  const serverCpu = await cpuSeconds(server.pid);
  const run = await timed(
    process.execPath,
    [...nodeFlags, BIN, '--data-dir', backupDir, '--json', 'verify', pubky],
    {
      timeFile: join(dir, 'ours-verify.time'),
      stdout: 'pipe',
    },
  );
  run.serverCpuS = (await cpuSeconds(server.pid)) - serverCpu;
  run.report = JSON.parse(run.stdout.trim().split('\n').at(-1));
  log(`  ours: ${secs(run.ms)} s (${run.report.outcome})`);
  return run;
}

/** The target holds every file of `user` with the backup's bytes (listing, then ETags of a sample). */
async function checkTarget(server, user, files) {
  const listed = new Set();
  let cursor;
  for (;;) {
    const query = `limit=${LIST_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const text = await (
      await fetch(`${server.homeserver}/pub/?${query}`, { headers: { 'pubky-host': user } })
    ).text();
    const lines = text.split('\n').filter(Boolean);
    for (const line of lines) listed.add(line.slice(`pubky://${user}`.length));
    if (lines.length < LIST_PAGE) break;
    cursor = lines.at(-1);
  }
  let etagsOk = 0;
  const sample = files.filter((_, i) => i % Math.max(1, Math.floor(files.length / 50)) === 0);
  for (const file of sample) {
    const head = await fetch(`${server.homeserver}${encodePath(file.path)}`, {
      method: 'HEAD',
      headers: { 'pubky-host': user },
    });
    if (head.headers.get('etag') === `"${file.blake3}"`) etagsOk++;
  }
  const missing = files.filter((f) => !listed.has(f.path)).length;
  return { listed: listed.size, missing, etagsOk, sampled: sample.length };
}

// ---------------------------------------------------------------------------------------------
// Report

const secs = (ms) => (ms / 1000).toFixed(2);
const mbOf = (kb) => (kb === undefined ? '?' : (kb / 1024).toFixed(0));
const verdict = (ok) => (ok ? '✅' : '❌');

function machineFacts() {
  let curl = 'curl ?';
  try {
    curl = execFileSync('curl', ['--version'], { encoding: 'utf8' })
      .split('\n')[0]
      .split(' ')
      .slice(0, 2)
      .join(' ');
  } catch {}
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    ramGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    curl,
    load: os.loadavg()[0].toFixed(2),
  };
}

function table(r) {
  const rows = [
    ['Files (total size)', `${r.files} (${(r.totalBytes / 1e6).toFixed(1)} MB)`, '', ''],
    [
      'curl -T, 8 parallel: time (mean of before / after ours)',
      `${secs(r.curl.ms)} s (${secs(r.curl.before.ms)} / ${secs(r.curl.after.ms)})`,
      '',
      'baseline',
    ],
    ['ours `restore --concurrency 8`: time', `${secs(r.ours.ms)} s`, '', ''],
    [
      '**restore ratio ours / curl (time)**',
      `**${r.restoreRatio.toFixed(2)}**`,
      `≤ ${GOAL_RESTORE_RATIO}`,
      verdict(r.restoreRatio <= GOAL_RESTORE_RATIO),
    ],
    [
      '**our peak RSS (restore)**',
      `**${mbOf(r.ours.maxRssKB)} MB**`,
      `< ${GOAL_RSS_MB} MB`,
      verdict(r.ours.maxRssKB / 1024 < GOAL_RSS_MB),
    ],
    [
      'uploads complete (listed, ETags of a sample)',
      `ours ${r.oursCheck.listed}/${r.files}, ${r.oursCheck.etagsOk}/${r.oursCheck.sampled}; curl ${r.curlCheck.listed}/${r.files}, ${r.curlCheck.etagsOk}/${r.curlCheck.sampled}`,
      'all',
      verdict(r.complete),
    ],
    [
      'curl listing + HEAD, 8 parallel (mean of before / after ours)',
      `${secs(r.curlVerify.ms)} s (${secs(r.curlVerify.before.ms)} / ${secs(r.curlVerify.after.ms)})`,
      '',
      'baseline',
    ],
    [
      'ours `verify`: time',
      `${secs(r.verify.ms)} s (${r.verify.report.outcome}, ${r.verify.report.counts.identical} identical)`,
      '',
      '',
    ],
    [
      '**verify ratio ours / curl (time)**',
      `**${r.verifyRatio.toFixed(2)}**`,
      `≤ ${GOAL_VERIFY_RATIO}`,
      verdict(r.verifyRatio <= GOAL_VERIFY_RATIO),
    ],
    [
      'our peak RSS (verify)',
      `${mbOf(r.verify.maxRssKB)} MB`,
      `< ${GOAL_RSS_MB} MB`,
      verdict(r.verify.maxRssKB / 1024 < GOAL_RSS_MB),
    ],
  ];
  return [
    '| measure | result | goal | |',
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function details(r) {
  const cpu = (s) => (s === undefined || Number.isNaN(s) ? '?' : `${s.toFixed(1)} s`);
  return [
    `- CPU (user + system) while uploading: curl ${cpu(r.curl.before.cpuS)} with the homeserver at ${cpu(r.curl.before.serverCpuS)}; ` +
      `ours ${cpu(r.ours.cpuS)} with the homeserver at ${cpu(r.ours.serverCpuS)} (${r.machine.nproc} CPUs shared by client and server)`,
    `- CPU while verifying: ours ${cpu(r.verify.cpuS)} with the homeserver at ${cpu(r.verify.serverCpuS)}`,
    `- curl peak RSS: ${mbOf(r.curl.before.maxRssKB)} MB`,
    `- 1-minute load average at the start: ${r.machine.load}`,
  ].join('\n');
}

async function writeReport(r, options, facts) {
  const file = join(ROOT, 'BENCHMARKS.md');
  const section = [
    START_MARK,
    '## Restore and verify: `restore` vs `curl -T`, `verify` vs listing + HEAD',
    '',
    `Generated by \`bench/restore.mjs\`; rerun with \`npm run bench:restore\` (quick: \`node bench/restore.mjs --files 500\`).`,
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${facts.nproc} CPUs (\`nproc\`), ${facts.cpu}, ${facts.ramGiB} GiB RAM, ${facts.os}`,
    `- ${facts.node}, ${facts.curl}`,
    `- Command: \`node bench/restore.mjs --files ${options.files} --concurrency ${options.concurrency}\``,
    '',
    table(r),
    '',
    details(r),
    '',
    `Method: one run of \`bench/restore.mjs\`. A testnet (pkarr relay + homeserver emulator, folder storage) runs in its own child process. The backup is written straight to disk as \`sync\` leaves it (\`data/\` with the store's names, \`state/index.jsonl\` with each file's BLAKE3, \`key.json\` pinned to the homeserver): N files log-uniform between 1 kB and 1 MB from a fixed seed, 100 per folder, every 97th name with a space, accents, \`#\` and \`%\` (the data set of \`bench/sync.mjs\`). Baseline: \`curl --parallel --parallel-max 8 --fail -H 'pubky-host: …' -H 'cookie: …' -K <config>\` with an \`upload-file\`/\`url\` pair per file (PUT), as a freshly signed-up user, once before and once after ours (the mean counts; both are shown). Ours: the real CLI, \`pubky-backup --json restore <pubky> --to <url> --secret-key-file … --concurrency 8\`, from process start to exit (it probes the homeserver, signs the user up, lists the target, then uploads each file streaming with its BLAKE3 checked before the last chunk). Both are timed with \`performance.now()\` around the child process, under \`/usr/bin/time\` for CPU and peak RSS; \`sync\` runs before each timed phase. Completeness: every path is listed on the target for both users, and the ETags of a 50-file sample equal the backup's BLAKE3. Verify: \`pubky-backup --json verify <pubky>\` (listing + one HEAD per file, 8 in flight, plus one feed-head request, report written) against curl fetching the same listing page by page (one curl per page: each page starts after the previous one's last line) and then \`curl --parallel --parallel-max 8 -I\` of every listed file, once before and once after ours. All traffic is on 127.0.0.1; client and server share this machine's CPUs.`,
    END_MARK,
  ].join('\n');
  let text = await readFile(file, 'utf8');
  const start = text.indexOf(START_MARK);
  const end = text.indexOf(END_MARK);
  if (start !== -1 && end !== -1)
    text = `${text.slice(0, start)}${section}${text.slice(end + END_MARK.length)}`;
  else text = `${text.trimEnd()}\n\n${section}\n`;
  await writeFile(file, text);
  return file;
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const facts = machineFacts();
  if (options.profile) {
    await mkdir(options.profile, { recursive: true });
    nodeFlags = ['--cpu-prof', '--cpu-prof-dir', options.profile];
  }
  tempRoot = await mkdtemp(join(os.tmpdir(), 'pubky-bench-restore-'));
  const server = await startServer(join(tempRoot, 'server'));
  log(`testnet: ${server.homeserver} (pid ${server.pid}), temp ${tempRoot}, load ${facts.load}`);

  const files = planFiles(options.files);
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  const keypair = Keypair.random();
  const pubky = keypair.publicKey.z32;
  const backupDir = join(tempRoot, 'backup');
  log(`writing a backup of ${files.length} files, ${(totalBytes / 1e6).toFixed(1)} MB`);
  await makeBackup(backupDir, keypair, files, server.homeserver);
  const keyFile = join(tempRoot, 'secret.key');
  await writeFile(keyFile, Buffer.from(keypair.secretKey()).toString('hex'), { mode: 0o600 });

  const before = await curlUpload(server, files, options.concurrency, tempRoot, 'before');
  const ours = await oursRestore(server, backupDir, keyFile, pubky, options.concurrency, tempRoot);
  const after = await curlUpload(server, files, options.concurrency, tempRoot, 'after');
  const curl = { ms: (before.ms + after.ms) / 2, before, after };

  const verifyBefore = await curlListAndHead(server, pubky, options.concurrency, tempRoot, 'before');
  const verify = await oursVerify(server, backupDir, pubky, tempRoot);
  const verifyAfter = await curlListAndHead(server, pubky, options.concurrency, tempRoot, 'after');
  const curlVerify = { ms: (verifyBefore.ms + verifyAfter.ms) / 2, before: verifyBefore, after: verifyAfter };

  const [oursCheck, curlCheck] = [
    await checkTarget(server, pubky, files),
    await checkTarget(server, before.user, files),
  ];
  const complete =
    ours.summary.uploaded === files.length &&
    ours.summary.failed.length === 0 &&
    oursCheck.missing === 0 &&
    curlCheck.missing === 0 &&
    oursCheck.etagsOk === oursCheck.sampled &&
    curlCheck.etagsOk === curlCheck.sampled &&
    verify.report.counts.identical === files.length;

  const result = {
    files: files.length,
    totalBytes,
    curl,
    ours,
    restoreRatio: ours.ms / curl.ms,
    curlVerify,
    verify,
    verifyRatio: verify.ms / curlVerify.ms,
    oursCheck,
    curlCheck,
    complete,
    machine: facts,
  };
  console.log(`\n${table(result)}\n\n${details(result)}\n`);
  if (options.write) log(`wrote ${await writeReport(result, options, facts)}`);
  if (!complete) process.exitCode = 1;
}

let keep = false;
try {
  keep = parseArgs(process.argv.slice(2)).keep;
  await main();
} catch (error) {
  log(`bench failed: ${error instanceof Error ? error.stack : error}`);
  process.exitCode = 1;
} finally {
  await cleanup(keep);
}
