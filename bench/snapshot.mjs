// Snapshot benchmark: store-only ZIP of a backup against `zip -r -0` on the same tree, same run;
// and peak memory with many files.
//
//   npm run bench:snapshot                    (= npm run build && node bench/snapshot.mjs)
//   node bench/snapshot.mjs --files 2000 --many 20000   (quick run)
//
// Each side runs twice on a warm page cache; the faster run of each counts. Our snapshot runs in a
// child process so its peak RSS (process.resourceUsage().maxRSS) is its own.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Keypair } from '../dist/identity/index.js';
import { KeyLayout } from '../dist/store/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const FILES = option('--files', 10_000);
const MANY = option('--many', 100_000);

/** Deterministic sizes, log-uniform from 1 KB to 1 MB, like the sync benchmark. */
function sizeOf(i) {
  const x = ((i * 2654435761) % 2 ** 32) / 2 ** 32;
  return Math.round(1000 * 1000 ** x);
}

async function makeBackup(root, count, size) {
  const pubky = Keypair.random().publicKey.z32;
  const layout = new KeyLayout(root, pubky);
  await mkdir(layout.stateDir, { recursive: true });
  let bytes = 0;
  const block = Buffer.alloc(1_000_000);
  for (let i = 0; i < block.length; i++) block[i] = (i * 7919) % 251;
  for (let dir = 0; dir * 500 < count; dir++) {
    const folder = join(layout.keyDir, 'data/pub/bench', String(dir));
    await mkdir(folder, { recursive: true });
    const writes = [];
    for (let i = dir * 500; i < Math.min(count, (dir + 1) * 500); i++) {
      const n = size(i);
      bytes += n;
      writes.push(writeFile(join(folder, `${i}.bin`), block.subarray(0, n)));
    }
    await Promise.all(writes);
  }
  return { layout, pubky, bytes };
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

const root = await mkdtemp(join(os.tmpdir(), 'pubky-snapshot-bench-'));
try {
  console.error(`building a ${FILES}-file backup…`);
  const tree = await makeBackup(root, FILES, sizeOf);
  const dataDir = join(tree.layout.keyDir, 'data');
  const zipTimes = [];
  const ours = [];
  for (let round = 0; round < 2; round++) {
    const target = join(root, `zip-${round}.zip`);
    zipTimes.push(runZip(dataDir, target));
    await rm(target);
    const result = runOurs(root, tree.pubky);
    ours.push(result);
    await rm(result.file);
  }
  const zipBest = Math.min(...zipTimes);
  const oursBest = ours.reduce((a, b) => (a.seconds < b.seconds ? a : b));
  const mb = tree.bytes / 1e6;

  console.error(`building a ${MANY}-file backup (tiny files)…`);
  const manyRoot = join(root, 'many');
  const many = await makeBackup(manyRoot, MANY, () => 100);
  const manyZipSeconds = runZip(join(many.layout.keyDir, 'data'), join(root, 'many.zip'));
  const manyOurs = runOurs(manyRoot, many.pubky);
  const archive = await stat(manyOurs.file);

  const rows = [
    ['files / data', `${FILES} files, ${mb.toFixed(0)} MB`, `${MANY} files × 100 B`],
    [
      '`zip -r -0` (best of 2)',
      `${zipBest.toFixed(2)} s, ${(mb / zipBest).toFixed(0)} MB/s`,
      `${manyZipSeconds.toFixed(2)} s`,
    ],
    [
      '`snapshot create` (best of 2)',
      `${oursBest.seconds.toFixed(2)} s, ${(mb / oursBest.seconds).toFixed(0)} MB/s`,
      `${manyOurs.seconds.toFixed(2)} s (${(archive.size / 1e6).toFixed(1)} MB zip)`,
    ],
    [
      'throughput ratio ours/zip (goal ≥ 0.8)',
      (zipBest / oursBest.seconds).toFixed(2),
      (manyZipSeconds / manyOurs.seconds).toFixed(2),
    ],
    [
      'our peak RSS (goal < 250 MB)',
      `${(oursBest.maxRssKb / 1024).toFixed(0)} MB`,
      `${(manyOurs.maxRssKb / 1024).toFixed(0)} MB`,
    ],
  ];
  const table = [
    '| | 10k-file backup | many small files |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  console.log(table);
} finally {
  await rm(root, { recursive: true, force: true });
}
