import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkTrayLibraries,
  notFoundLibraries,
  prepareTrayBinary,
  trayCacheDir,
} from '../../src/tray/binary.js';

describe('the tray program', () => {
  it('is copied from systray2 into the cache with its exec bit (the npm tarball lost it)', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'pubky-backup-tray-cache-'));
    const binary = await prepareTrayBinary('linux', cache);
    expect(binary.copyDir).toBe(cache);
    expect(binary.path).toMatch(new RegExp(`^${cache}/\\d+\\.\\d+\\.\\d+/tray_linux_release$`));
    expect((await stat(binary.path)).mode & 0o111).toBe(0o111);
    // Again: the copy is reused.
    const again = await prepareTrayBinary('linux', cache);
    expect(again.path).toBe(binary.path);
    expect((await prepareTrayBinary('win32', cache)).copyDir).toBe(false);
    await expect(prepareTrayBinary('aix', cache)).rejects.toMatchObject({ code: 'TRAY_UNAVAILABLE' });
  });

  it('a missing library is one line naming the Debian package', async () => {
    const ldd = [
      '\tlinux-vdso.so.1 (0x00007ffc)',
      '\tlibappindicator3.so.1 => not found',
      '\tlibgtk-3.so.0 => /lib/x86_64-linux-gnu/libgtk-3.so.0 (0x00007f10)',
    ].join('\n');
    expect(notFoundLibraries(ldd)).toEqual(['libappindicator3.so.1']);
    const binary = { path: '/x/tray_linux_release', copyDir: '/x' };
    const failure = await checkTrayLibraries(binary, 'linux', async () => notFoundLibraries(ldd)).catch(
      (e) => e,
    );
    expect(failure).toMatchObject({ code: 'TRAY_UNAVAILABLE', category: 'unavailable' });
    expect(failure.message).toBe(
      'No tray icon: the tray needs libappindicator3.so.1, which is not installed (Debian/Ubuntu: apt install libayatana-appindicator3-1). The backup itself runs without it.',
    );
    expect(failure.message).not.toContain('\n');
    await expect(checkTrayLibraries(binary, 'darwin', async () => ['x'])).resolves.toBeUndefined();
  });

  it('caches per OS convention', () => {
    expect(trayCacheDir('linux', { XDG_CACHE_HOME: '/c' })).toBe('/c/pubky-backup/tray');
    expect(trayCacheDir('darwin', {})).toMatch(/Library\/Caches\/pubky-backup\/tray$/);
  });
});
