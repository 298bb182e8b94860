// Snapshot benchmark: store-only ZIP of a backup against `zip -r -0` on the same tree, same run;
// and peak memory with many files.
//
//   npm run bench:snapshot                    (= npm run build && node bench/snapshot.mjs)
//   node bench/snapshot.mjs --files 2000 --many 20000      (quick run)
//   node bench/snapshot.mjs --huge 1000000                 (adds the 1M × 100 B row; ~10 min)
//
// Options: --files N (10k-file tree, default 10000), --many N (tiny files, default 100000),
// --huge N (tiny files, memory only; default 0 = skipped), --no-write (don't update BENCHMARKS.md).
//
// Each backup tree has an index (state/index.jsonl, as a real backup does), so the snapshot
// compares every file with it. Each side runs twice on a warm page cache (the huge tree once);
// the faster run of each counts. Our snapshot runs in a child process so its peak RSS
// (process.resourceUsage().maxRSS) is its own.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Keypair } from '../dist/identity/index.js';
import { KeyLayout } from '../dist/store/index.js';
import { blake3Backend, blake3Of } from '../dist/util/blake3.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const FILES = option('--files', 10_000);
const MANY = option('--many', 100_000);
const HUGE = option('--huge', 0);
const WRITE = !args.includes('--no-write');
const GOAL_TREE = 0.8;
const GOAL_MANY = 0.5;
const GOAL_RSS_MB = 250;

/** Deterministic sizes, log-uniform from 1 KB to 1 MB, like the sync benchmark. */
function sizeOf(i) {
  const x = ((i * 2654435761) % 2 ** 32) / 2 ** 32;
  return Math.round(1000 * 1000 ** x);
}

/** A backup of `count` files (500 per folder) with its index, as sync would have left it. */
async function makeBackup(root, count, size) {
  const pubky = Keypair.random().publicKey.z32;
  const layout = new KeyLayout(root, pubky);
  await mkdir(layout.stateDir, { recursive: true });
  let bytes = 0;
  const block = Buffer.alloc(1_000_000);
  for (let i = 0; i < block.length; i++) block[i] = (i * 7919) % 251;
  const index = [];
  let indexBytes = 0;
  const flushIndex = async () => {
    await writeFile(layout.indexFile, index.join(''), { flag: 'a' });
    index.length = 0;
    indexBytes = 0;
  };
  for (let dir = 0; dir * 500 < count; dir++) {
    const folder = join(layout.keyDir, 'data/pub/bench', String(dir));
    mkdirSync(folder, { recursive: true });
    for (let i = dir * 500; i < Math.min(count, (dir + 1) * 500); i++) {
      const n = size(i);
      const body = Buffer.from(block.subarray(0, n));
      body.writeUInt32LE(i, 0); // every file differs
      bytes += n;
      writeFileSync(join(folder, `${i}.bin`), body);
      const line = `${JSON.stringify({ set: { path: `/pub/bench/${dir}/${i}.bin`, size: n, blake3: await blake3Of(body), cursor: '1' } })}\n`;
      index.push(line);
      indexBytes += line.length;
    }
    if (indexBytes > 4_000_000) await flushIndex();
  }
  await flushIndex();
  return { root, layout, pubky, bytes };
}

function runOurs(root, pubky) {
  const out = execFileSync(process.execPath, [join(HERE, 'snapshot-child.mjs'), root, pubky], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').at(-1));
}

function runZip(dataDir, target) {
  const started = performance.now();
  execFileSync('zip', ['-r', '-0', '-q', target, 'pub'], { cwd: dataDir });
  return (performance.now() - started) / 1000;
}

/** Both sides on one tree, `rounds` times each, alternating; the best of each. */
async function compare(root, tree, rounds) {
  const dataDir = join(tree.layout.keyDir, 'data');
  const zipTimes = [];
  const ours = [];
  for (let round = 0; round < rounds; round++) {
    const target = join(root, `zip-${round}.zip`);
    zipTimes.push(runZip(dataDir, target));
    const zipBytes = (await stat(target)).size;
    await rm(target);
    const result = runOurs(tree.root, tree.pubky);
    result.archiveBytes = (await stat(result.file)).size;
    result.zipBytes = zipBytes;
    ours.push(result);
    await rm(result.file);
  }
  return {
    zip: Math.min(...zipTimes),
    ours: ours.reduce((a, b) => (a.seconds < b.seconds ? a : b)),
    maxRssKb: Math.max(...ours.map((o) => o.maxRssKb)),
  };
}

const verdict = (ok) => (ok ? '✅' : '❌');
const mbOf = (kb) => `${(kb / 1024).toFixed(0)} MB`;

const root = await mkdtemp(join(os.tmpdir(), 'pubky-snapshot-bench-'));
const load = os
  .loadavg()
  .map((n) => n.toFixed(2))
  .join(' / ');
try {
  console.error(`building a ${FILES}-file backup…`);
  const tree = await makeBackup(join(root, 'tree'), FILES, sizeOf);
  const treeRun = await compare(root, tree, 2);
  await rm(join(root, 'tree'), { recursive: true, force: true });

  console.error(`building a ${MANY}-file backup (100 B files)…`);
  const many = await makeBackup(join(root, 'many'), MANY, () => 100);
  const manyRun = await compare(root, many, 2);
  await rm(join(root, 'many'), { recursive: true, force: true });

  let hugeRun;
  if (HUGE > 0) {
    console.error(`building a ${HUGE}-file backup (100 B files)…`);
    const huge = await makeBackup(join(root, 'huge'), HUGE, () => 100);
    hugeRun = await compare(root, huge, 1);
    await rm(join(root, 'huge'), { recursive: true, force: true });
  }

  const mb = tree.bytes / 1e6;
  const treeRatio = treeRun.zip / treeRun.ours.seconds;
  const manyRatio = manyRun.zip / manyRun.ours.seconds;
  const rows = [
    [
      `\`snapshot create\`, ${FILES}-file tree (${mb.toFixed(0)} MB): throughput vs \`zip -r -0\``,
      `${treeRun.ours.seconds.toFixed(2)} s, ${(mb / treeRun.ours.seconds).toFixed(0)} MB/s`,
      `${treeRun.zip.toFixed(2)} s, ${(mb / treeRun.zip).toFixed(0)} MB/s`,
      treeRatio.toFixed(2),
      `≥ ${GOAL_TREE}`,
      verdict(treeRatio >= GOAL_TREE),
    ],
    [
      `same: our peak RSS`,
      mbOf(treeRun.maxRssKb),
      '',
      '',
      `< ${GOAL_RSS_MB} MB`,
      verdict(treeRun.maxRssKb / 1024 < GOAL_RSS_MB),
    ],
    [
      `\`snapshot create\`, ${MANY} × 100 B: throughput vs \`zip -r -0\``,
      `${manyRun.ours.seconds.toFixed(2)} s (${(manyRun.ours.archiveBytes / 1e6).toFixed(1)} MB zip)`,
      `${manyRun.zip.toFixed(2)} s (${(manyRun.ours.zipBytes / 1e6).toFixed(1)} MB zip)`,
      manyRatio.toFixed(2),
      `≥ ${GOAL_MANY}`,
      verdict(manyRatio >= GOAL_MANY),
    ],
    [
      `same: our peak RSS`,
      mbOf(manyRun.maxRssKb),
      '',
      '',
      `< ${GOAL_RSS_MB} MB`,
      verdict(manyRun.maxRssKb / 1024 < GOAL_RSS_MB),
    ],
  ];
  if (hugeRun) {
    rows.push([
      `\`snapshot create\`, ${HUGE} × 100 B: our peak RSS (time: ours / zip)`,
      `${mbOf(hugeRun.maxRssKb)} (${hugeRun.ours.seconds.toFixed(1)} s)`,
      `(${hugeRun.zip.toFixed(1)} s)`,
      (hugeRun.zip / hugeRun.ours.seconds).toFixed(2),
      `< ${GOAL_RSS_MB} MB`,
      verdict(hugeRun.maxRssKb / 1024 < GOAL_RSS_MB),
    ]);
  } else {
    rows.push([
      '`snapshot create`, 1M × 100 B: our peak RSS',
      'not run (opt-in: `--huge 1000000`)',
      '',
      '',
      `< ${GOAL_RSS_MB} MB`,
      '',
    ]);
  }
  const table = [
    '| measure | ours | baseline | ratio | goal | |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  const facts = [
    `- Date: ${new Date().toISOString()}; load average before the run (1/5/15 min): ${load}`,
    `- Machine: ${os.availableParallelism?.() ?? os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, BLAKE3 ${blake3Backend()}`,
    `- Command: \`node bench/snapshot.mjs --files ${FILES} --many ${MANY}${HUGE ? ` --huge ${HUGE}` : ''}\``,
    `- ${FILES}-file tree: ${treeRun.ours.files} files archived; best of 2 each side`,
  ].join('\n');
  console.log(`${table}\n\n${facts}`);
  if (WRITE) await writeSection(`${table}\n\n${facts}`, HUGE > 0);
} finally {
  await rm(root, { recursive: true, force: true });
}

/** Replaces the snapshot table in BENCHMARKS.md (between its markers); a 1M row is kept unless re-run. */
async function writeSection(text, withHuge) {
  const file = join(ROOT, 'BENCHMARKS.md');
  const start = '<!-- snapshot-bench:start -->';
  const end = '<!-- snapshot-bench:end -->';
  const old = await readFile(file, 'utf8');
  const from = old.indexOf(start);
  const to = old.indexOf(end);
  if (from === -1 || to === -1) {
    console.error(`BENCHMARKS.md has no ${start} … ${end} markers: not updated`);
    return;
  }
  let body = text;
  if (!withHuge) {
    // Keep the last measured 1M row (it is opt-in).
    const kept = old
      .slice(from, to)
      .split('\n')
      .find((line) => line.includes('× 100 B: our peak RSS (time'));
    if (kept) body = body.replace(/\n\| `snapshot create`, 1M × 100 B: our peak RSS \|[^\n]*/, `\n${kept}`);
  }
  await writeFile(file, `${old.slice(0, from + start.length)}\n${body}\n${old.slice(to)}`);
  console.error(`wrote ${file}`);
}
