// Runs one snapshot of an existing backup folder and reports time and peak RSS (run by snapshot.mjs).
import { performance } from 'node:perf_hooks';
import { createSnapshot } from '../dist/snapshot/index.js';
import { BackupStore, KeyLayout } from '../dist/store/index.js';

const [dataDir, pubky] = process.argv.slice(2);
const layout = new KeyLayout(dataDir, pubky);
const started = performance.now();
const created = await createSnapshot({
  layout,
  store: BackupStore.openFs(layout.keyDir),
  homeserver: null,
  tool: 'bench',
});
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ seconds, file: created.file, files: created.files, bytes: created.bytes, maxRssKb: process.resourceUsage().maxRSS })}\n`,
);
