// Builds the dashboard: src/web/main.tsx bundled and minified by esbuild into dist/web/app.js,
// with index.html and style.css beside it. Run by `npm run build` (after tsc).
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'dist/web');
await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(root, 'src/web/main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: join(out, 'app.js'),
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) await copyFile(join(root, 'src/web', file), join(out, file));
