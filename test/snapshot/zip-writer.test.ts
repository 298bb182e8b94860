import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutputFile } from '../../src/snapshot/output-file.js';
import { openZip } from '../../src/snapshot/zip-reader.js';
import { ZipWriter } from '../../src/snapshot/zip-writer.js';

describe('ZipWriter', () => {
  it('writes whole and streamed entries that unzip and yauzl read back byte for byte', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pubky-zip-writer-'));
    const file = join(dir, 'test.zip');
    const out = await OutputFile.create(file);
    const central = await OutputFile.create(join(dir, 'central.spool'));
    const zip = new ZipWriter(out, central, new Date('2026-01-02T03:04:05Z'));
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 13) & 0xff;
    const entries: Record<string, Buffer> = {
      'pub/empty': Buffer.alloc(0),
      'pub/small.txt': Buffer.from('hello'),
      'pub/naïve café.txt': Buffer.from('accents'),
    };
    for (const [name, bytes] of Object.entries(entries)) await zip.addWhole(Buffer.from(name), bytes);
    // Streamed in uneven chunks, one of them larger than the output buffer.
    const stream = zip.begin(Buffer.from('pub/big.bin'));
    for (const [from, to] of [
      [0, 1000],
      [1000, 1000 + 2 * 1024 * 1024],
      [1000 + 2 * 1024 * 1024, big.length],
    ] as const) {
      await stream.write(big.subarray(from, to));
    }
    await stream.end();
    entries['pub/big.bin'] = big;
    // Many small ones, so the buffers rotate while writes are in flight.
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.alloc(700, i & 0xff);
      entries[`pub/many/${i}`] = bytes;
      await zip.addWhole(Buffer.from(`pub/many/${i}`), bytes);
    }
    await zip.finish();
    await out.finish();
    await central.abandon();

    expect(execFileSync('unzip', ['-t', file], { encoding: 'utf8' })).toContain('No errors detected');
    const archive = await openZip(file);
    const seen = new Map<string, Buffer>();
    for await (const entry of archive.entries()) {
      const parts: Buffer[] = [];
      for await (const chunk of await archive.read(entry)) parts.push(chunk as Buffer);
      seen.set(entry.fileName, Buffer.concat(parts));
      // Info-ZIP's UTC timestamp field gives the exact second (DOS time alone has 2 s steps).
      expect(entry.getLastModDate().getTime()).toBe(new Date('2026-01-02T03:04:05Z').getTime());
    }
    archive.close();
    expect([...seen.keys()]).toEqual(Object.keys(entries));
    for (const [name, bytes] of Object.entries(entries)) expect(seen.get(name)?.equals(bytes)).toBe(true);
    expect((await readFile(file)).subarray(0, 4).toString('hex')).toBe('504b0304');
  });
});
