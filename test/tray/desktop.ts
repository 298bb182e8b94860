import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { PNG } from 'pngjs';
import { STATUS_COLORS } from '../../src/tray/icons.js';
import type { TrayLevel } from '../../src/tray/status.js';

/**
 * A desktop for tray tests: Xvfb with trayer's system tray panel on top (Debian packages xvfb,
 * trayer, imagemagick for `import` screenshots, xdotool to click and type).
 */

const TOOLS: Array<[command: string, probe: string[], debianPackage: string]> = [
  ['Xvfb', ['-help'], 'xvfb'],
  ['trayer', ['--version'], 'trayer'],
  ['import', ['-version'], 'imagemagick'],
  ['xdotool', ['version'], 'xdotool'],
];

/** Why the desktop tests cannot run here (a missing tool), or undefined. */
export function desktopUnavailable(): string | undefined {
  const missing = TOOLS.filter(([command, probe]) => {
    try {
      execFileSync(command, probe, { stdio: 'ignore', timeout: 10_000 });
      return false;
    } catch (error) {
      // Xvfb -help exits 1 after printing its help: it exists.
      return (
        (error as NodeJS.ErrnoException).code === 'ENOENT' || (error as { status?: number }).status === 127
      );
    }
  });
  if (missing.length === 0) return undefined;
  return `needs ${missing.map(([c, , p]) => `${c} (Debian ${p})`).join(', ')}; .ci/run installs them`;
}

/** The panel trayer shows at the top left: this many pixels wide and high. */
export const PANEL = { width: 120, height: 32 };

export interface Desktop {
  display: string;
  /** A screenshot of the region (default: the tray panel) as a PNG. */
  screenshot(region?: { width: number; height: number; x?: number; y?: number }): Promise<Buffer>;
  /** Runs xdotool with these arguments on this display. */
  xdotool(...args: string[]): Promise<void>;
  close(): Promise<void>;
}

/** Starts Xvfb (a free display number) and trayer; resolves once the panel is drawn. */
export async function startDesktop(): Promise<Desktop> {
  const children: ChildProcess[] = [];
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '640x400x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  children.push(xvfb);
  const number = await new Promise<string>((resolve, reject) => {
    let text = '';
    xvfb.stdio[3]?.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.trim());
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
  const display = `:${number}`;
  const env = { ...process.env, DISPLAY: display };
  const run = (command: string, args: string[]) =>
    new Promise<Buffer>((resolve, reject) =>
      execFile(
        command,
        args,
        { env, encoding: 'buffer', maxBuffer: 16 << 20, timeout: 20_000 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    );
  const trayer = spawn(
    'trayer',
    [
      '--edge',
      'top',
      '--align',
      'left',
      '--widthtype',
      'pixel',
      '--width',
      `${PANEL.width}`,
      '--heighttype',
      'pixel',
      '--height',
      `${PANEL.height}`,
      '--SetDockType',
      'true',
      '--transparent',
      'false',
    ],
    { env, stdio: 'ignore' },
  );
  children.push(trayer);
  const desktop: Desktop = {
    display,
    screenshot: (region = PANEL) =>
      run('import', [
        '-window',
        'root',
        '-crop',
        `${region.width}x${region.height}+${region.x ?? 0}+${region.y ?? 0}`,
        '+repage',
        'png:-',
      ]),
    xdotool: async (...args) => {
      await run('xdotool', args);
    },
    close: async () => {
      for (const child of children.reverse()) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
    },
  };
  // The panel is drawn when its middle is no longer the black root window.
  const deadline = Date.now() + 20_000;
  while (pixel(await desktop.screenshot(), PANEL.width - 10, PANEL.height / 2).join() === '0,0,0') {
    if (Date.now() > deadline) {
      await desktop.close();
      throw new Error('trayer did not draw its panel');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return desktop;
}

/** One pixel's RGB. */
export function pixel(png: Buffer, x: number, y: number): [number, number, number] {
  const image = PNG.sync.read(png);
  const offset = (Math.round(y) * image.width + Math.round(x)) * 4;
  return [image.data[offset] ?? 0, image.data[offset + 1] ?? 0, image.data[offset + 2] ?? 0];
}

/** What the tray panel shows: the status colour most of its pixels have (none: no icon), and where. */
export function trayLevel(png: Buffer): {
  level: TrayLevel | undefined;
  pixels: number;
  x: number;
  y: number;
} {
  const image = PNG.sync.read(png);
  const colors = Object.entries(STATUS_COLORS).map(([level, hex]) => {
    const n = Number.parseInt(hex.slice(1), 16);
    return {
      level: level as TrayLevel,
      rgb: [(n >> 16) & 255, (n >> 8) & 255, n & 255],
      count: 0,
      x: 0,
      y: 0,
    };
  });
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const offset = (y * image.width + x) * 4;
      for (const color of colors) {
        const distance =
          Math.abs((image.data[offset] ?? 0) - (color.rgb[0] ?? 0)) +
          Math.abs((image.data[offset + 1] ?? 0) - (color.rgb[1] ?? 0)) +
          Math.abs((image.data[offset + 2] ?? 0) - (color.rgb[2] ?? 0));
        if (distance < 24) {
          color.count++;
          color.x += x;
          color.y += y;
        }
      }
    }
  }
  const best = colors.sort((a, b) => b.count - a.count)[0] as (typeof colors)[number];
  // A few stray pixels are not an icon.
  if (best.count < 40) return { level: undefined, pixels: best.count, x: 0, y: 0 };
  return { level: best.level, pixels: best.count, x: best.x / best.count, y: best.y / best.count };
}

/** Pixels that differ between two screenshots of the same size. */
export function differingPixels(a: Buffer, b: Buffer): number {
  const one = PNG.sync.read(a);
  const two = PNG.sync.read(b);
  let count = 0;
  for (let i = 0; i < one.data.length; i += 4) {
    if (
      one.data[i] !== two.data[i] ||
      one.data[i + 1] !== two.data[i + 1] ||
      one.data[i + 2] !== two.data[i + 2]
    )
      count++;
  }
  return count;
}
