import { PNG } from 'pngjs';
import type { TrayLevel } from './status.js';

/**
 * The status colours, shared with the dashboard: synced green, syncing blue, error red, paused
 * grey, starting amber; a lighter grey while no daemon runs.
 */
export const STATUS_COLORS: Record<TrayLevel, string> = {
  synced: '#16a34a',
  syncing: '#2563eb',
  error: '#dc2626',
  paused: '#6b7280',
  starting: '#d97706',
  offline: '#9ca3af',
};

/** Side of the tray icons in pixels (the tray scales them to the panel). */
export const ICON_SIZE = 32;

type Point = readonly [number, number];
/** A white mark on the coloured disc, as segments (capsules) and dots in unit coordinates (y down). */
interface Glyph {
  segments?: Array<readonly [Point, Point]>;
  dots?: Point[];
  /** Ring radius, with gaps (radians) left open: the "sync" arrows. */
  ring?: { radius: number; gaps: Array<readonly [number, number]> };
}

const STROKE = 0.14;
const GLYPHS: Record<TrayLevel, Glyph> = {
  synced: {
    segments: [
      [
        [-0.42, 0.02],
        [-0.12, 0.32],
      ],
      [
        [-0.12, 0.32],
        [0.44, -0.3],
      ],
    ],
  },
  syncing: {
    ring: {
      radius: 0.46,
      gaps: [
        [-0.35, 0.35],
        [Math.PI - 0.35, Math.PI + 0.35],
      ],
    },
    segments: [
      // Arrow heads at the ends of the two arcs.
      [
        [0.46 * Math.cos(0.35), 0.46 * Math.sin(0.35)],
        [0.46 * Math.cos(0.35) + 0.2, 0.46 * Math.sin(0.35) - 0.06],
      ],
      [
        [-0.46 * Math.cos(0.35), -0.46 * Math.sin(0.35)],
        [-0.46 * Math.cos(0.35) - 0.2, -0.46 * Math.sin(0.35) + 0.06],
      ],
    ],
  },
  starting: {
    dots: [
      [-0.4, 0],
      [0, 0],
      [0.4, 0],
    ],
  },
  error: {
    segments: [
      [
        [0, -0.5],
        [0, 0.12],
      ],
    ],
    dots: [[0, 0.42]],
  },
  paused: {
    segments: [
      [
        [-0.2, -0.38],
        [-0.2, 0.38],
      ],
      [
        [0.2, -0.38],
        [0.2, 0.38],
      ],
    ],
  },
  offline: {
    segments: [
      [
        [-0.42, 0],
        [0.42, 0],
      ],
    ],
  },
};

/** The tray icon of a level as a PNG: a coloured disc with a white mark (antialiased, transparent corners). */
export function iconPng(level: TrayLevel, size = ICON_SIZE): Buffer {
  const png = new PNG({ width: size, height: size });
  const [r, g, b] = rgb(STATUS_COLORS[level]);
  const glyph = GLYPHS[level];
  const samples = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let disc = 0;
      let mark = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          // Unit coordinates: the disc spans [-1, 1].
          const u = ((x + (sx + 0.5) / samples) / size) * 2 - 1;
          const v = ((y + (sy + 0.5) / samples) / size) * 2 - 1;
          if (Math.hypot(u, v) <= 0.96) {
            disc++;
            if (inGlyph(glyph, u, v)) mark++;
          }
        }
      }
      const total = samples * samples;
      const white = disc === 0 ? 0 : mark / disc;
      const offset = (y * size + x) * 4;
      png.data[offset] = Math.round(r + (255 - r) * white);
      png.data[offset + 1] = Math.round(g + (255 - g) * white);
      png.data[offset + 2] = Math.round(b + (255 - b) * white);
      png.data[offset + 3] = Math.round((255 * disc) / total);
    }
  }
  return PNG.sync.write(png);
}

/** A PNG wrapped in an ICO container (Windows' tray wants ICO; PNG entries work since Vista). */
export function pngToIco(png: Buffer, size = ICON_SIZE): Buffer {
  const header = Buffer.alloc(22);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(1, 4); // one image
  header.writeUInt8(size >= 256 ? 0 : size, 6);
  header.writeUInt8(size >= 256 ? 0 : size, 7);
  header.writeUInt8(0, 8); // no palette
  header.writeUInt8(0, 9);
  header.writeUInt16LE(1, 10); // colour planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(png.length, 14);
  header.writeUInt32LE(22, 18); // data offset
  return Buffer.concat([header, png]);
}

const cache = new Map<string, string>();

/** The icon of a level as the tray binary wants it: base64 of a PNG, or of an ICO on Windows. */
export function trayIcon(level: TrayLevel, platform: NodeJS.Platform = process.platform): string {
  const key = `${level}:${platform}`;
  let icon = cache.get(key);
  if (!icon) {
    const png = iconPng(level);
    icon = (platform === 'win32' ? pngToIco(png) : png).toString('base64');
    cache.set(key, icon);
  }
  return icon;
}

function inGlyph(glyph: Glyph, u: number, v: number): boolean {
  const half = STROKE / 2;
  for (const [a, b] of glyph.segments ?? []) if (segmentDistance(u, v, a, b) <= half) return true;
  for (const [x, y] of glyph.dots ?? []) if (Math.hypot(u - x, v - y) <= STROKE * 0.75) return true;
  if (glyph.ring) {
    const { radius, gaps } = glyph.ring;
    if (Math.abs(Math.hypot(u, v) - radius) <= half) {
      const angle = Math.atan2(v, u);
      const inGap = gaps.some(([from, to]) =>
        [angle, angle + 2 * Math.PI, angle - 2 * Math.PI].some((a) => a >= from && a <= to),
      );
      if (!inGap) return true;
    }
  }
  return false;
}

function segmentDistance(u: number, v: number, a: Point, b: Point): number {
  const [ax, ay] = a;
  const [bx, by] = b;
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(u - (ax + t * dx), v - (ay + t * dy));
}

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
