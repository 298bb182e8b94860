import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ICON_SIZE, iconPng, pngToIco, STATUS_COLORS, trayIcon } from '../../src/tray/icons.js';
import type { TrayLevel } from '../../src/tray/status.js';

const levels = Object.keys(STATUS_COLORS) as TrayLevel[];
const hex = (data: Buffer, offset: number) =>
  `#${[0, 1, 2].map((i) => (data[offset + i] as number).toString(16).padStart(2, '0')).join('')}`;

describe('tray icons', () => {
  it('are small PNGs: a disc of the status colour with a white mark, transparent corners', () => {
    for (const level of levels) {
      const bytes = iconPng(level);
      expect(bytes.length).toBeLessThan(2_000);
      const png = PNG.sync.read(bytes);
      expect([png.width, png.height]).toEqual([ICON_SIZE, ICON_SIZE]);
      expect(png.data[3]).toBe(0); // top-left corner
      // Left of the centre, inside the disc and outside every mark: the status colour.
      const edge = (16 * ICON_SIZE + 3) * 4;
      expect(hex(png.data, edge)).toBe(STATUS_COLORS[level]);
      expect(png.data[edge + 3]).toBe(255);
      // Some pixels are the white mark.
      let white = 0;
      for (let i = 0; i < png.data.length; i += 4)
        if (png.data[i] === 255 && png.data[i + 1] === 255) white++;
      expect(white).toBeGreaterThan(10);
    }
    expect(new Set(levels.map((level) => iconPng(level).toString('base64'))).size).toBe(levels.length);
  });

  it('come as base64 PNG, or ICO on Windows', () => {
    expect(Buffer.from(trayIcon('synced', 'linux'), 'base64').subarray(1, 4).toString()).toBe('PNG');
    const ico = Buffer.from(trayIcon('error', 'win32'), 'base64');
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt16LE(4), ico[6]]).toEqual([
      0,
      1,
      1,
      ICON_SIZE,
    ]);
    expect(ico.readUInt32LE(18)).toBe(22);
    expect(ico.subarray(23, 26).toString()).toBe('PNG');
    expect(pngToIco(iconPng('synced')).readUInt32LE(14)).toBe(iconPng('synced').length);
  });
});
