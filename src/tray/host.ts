import type { ChildProcess } from 'node:child_process';
import type { Conf, MenuItem } from 'systray2';
import type { BackupError } from '../errors.js';
import { type TrayBinary, unavailable } from './binary.js';
import { trayIcon } from './icons.js';
import { menuShape, SEPARATOR, type TrayAction, type TrayItem, type TrayMenu } from './menu.js';

/** Shows the tray icon and its menu; tells which entry was clicked. `TrayApp` talks only to this. */
export interface TrayHost {
  /** Shows `menu` (the first call starts the icon; later calls update it). */
  show(menu: TrayMenu): Promise<void>;
  /** Called with the action of every clicked entry. */
  onAction(listener: (action: TrayAction) => void): void;
  /** Called when the icon went away by itself (the tray program died, the desktop session ended). */
  onExit(listener: (error: BackupError) => void): void;
  /** Removes the icon. */
  close(): Promise<void>;
}

/** A systray2 entry with our action beside it (systray2 keeps the object and hands it back on a click). */
type SysItem = MenuItem & { action?: TrayAction; items?: SysItem[] };
interface SysTrayInstance {
  readonly process: ChildProcess | null;
  ready(): Promise<void>;
  onClick(listener: (event: { item: SysItem }) => void): Promise<unknown>;
  sendAction(action: unknown): Promise<unknown>;
  kill(exitNode?: boolean): Promise<void>;
}
type SysTrayClass = new (conf: Conf) => SysTrayInstance;

/** How long the tray program may take to say it is ready. */
const READY_TIMEOUT_MS = 15_000;

/**
 * The real icon, through systray2's Go tray program (JSON lines over stdin/stdout). The program
 * cannot add or remove menu entries once shown: a menu of another structure (a pubky added or
 * removed, the daemon gone or back) restarts it; anything else is updated in place.
 */
export class SysTrayHost implements TrayHost {
  private tray: SysTrayInstance | undefined;
  private items: SysItem[] = [];
  private shown: TrayMenu | undefined;
  private shape = '';
  private closing = false;
  private actionListener: (action: TrayAction) => void = () => {};
  private readonly exitListeners: Array<(error: BackupError) => void> = [];
  /** Last lines the tray program wrote to stderr, for the message when it fails. */
  private stderr: string[] = [];

  constructor(
    private readonly binary: TrayBinary,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  onAction(listener: (action: TrayAction) => void): void {
    this.actionListener = listener;
  }

  onExit(listener: (error: BackupError) => void): void {
    this.exitListeners.push(listener);
  }

  async show(menu: TrayMenu): Promise<void> {
    if (this.tray && this.shown && menuShape(menu) === this.shape) return this.update(menu);
    await this.stop();
    await this.start(menu);
  }

  async close(): Promise<void> {
    await this.stop();
  }

  private async start(menu: TrayMenu): Promise<void> {
    const SysTray = await loadSysTray();
    this.items = menu.items.map(toSysItem);
    this.stderr = [];
    const tray = new SysTray({
      menu: {
        icon: trayIcon(menu.level, this.platform),
        title: '',
        tooltip: menu.tooltip,
        items: this.items,
      },
      copyDir: this.binary.copyDir,
    });
    // Listened to at once: a program that cannot be spawned rejects before the process exists.
    let failure: string | undefined;
    const ready = tray.ready().then(
      () => 'ready' as const,
      (error: Error) => {
        failure = error.message;
        return { failed: error.message };
      },
    );
    const child = await spawned(tray, () => failure);
    // Nobody else reads these: a stopped pipe must not crash us, a full one must not block it.
    child.stdin?.on('error', () => {});
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((line) => line.trim() !== ''),
      );
      this.stderr.splice(0, Math.max(0, this.stderr.length - 20));
    });
    const exited = new Promise<string>((resolve) => {
      const how = (code: number | null, signal: string | null) =>
        signal ? `killed by ${signal}` : `exit code ${code}`;
      if (child.exitCode !== null || child.signalCode !== null)
        resolve(how(child.exitCode, child.signalCode));
      else child.once('exit', (code, signal) => resolve(how(code, signal)));
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready,
      exited.then((how) => ({ failed: this.lastError() ?? how })),
      new Promise<{ failed: string }>((resolve) => {
        timer = setTimeout(
          () => resolve({ failed: 'the tray program did not start within 15 s' }),
          READY_TIMEOUT_MS,
        );
      }),
    ]);
    clearTimeout(timer);
    if (outcome !== 'ready') {
      child.kill('SIGKILL');
      throw unavailable(`the tray program could not start: ${outcome.failed}`);
    }
    this.tray = tray;
    this.shown = menu;
    this.shape = menuShape(menu);
    this.closing = false;
    void exited.then((how) => {
      if (this.tray !== tray || this.closing) return;
      this.tray = undefined;
      const error = unavailable(`the tray program stopped (${this.lastError() ?? how})`);
      for (const listener of this.exitListeners) listener(error);
    });
    await tray.onClick((event) => {
      if (event.item.action) this.actionListener(event.item.action);
    });
  }

  private async update(menu: TrayMenu): Promise<void> {
    const tray = this.tray as SysTrayInstance;
    const previous = this.shown as TrayMenu;
    if (previous.level !== menu.level || previous.tooltip !== menu.tooltip) {
      await tray.sendAction({
        type: 'update-menu',
        menu: { icon: trayIcon(menu.level, this.platform), title: '', tooltip: menu.tooltip, items: [] },
      });
    }
    const walk = async (items: SysItem[], next: readonly TrayItem[]) => {
      for (const [index, target] of next.entries()) {
        const current = items[index] as SysItem;
        current.action = target.action;
        if (
          current.title !== target.title ||
          current.tooltip !== target.tooltip ||
          current.enabled !== target.enabled
        ) {
          if (target.title !== SEPARATOR) {
            current.title = target.title;
            current.tooltip = target.tooltip;
            current.enabled = target.enabled;
            await tray.sendAction({ type: 'update-item', item: current });
          }
        }
        if (current.items && target.items) await walk(current.items, target.items);
      }
    };
    await walk(this.items, menu.items);
    this.shown = menu;
  }

  private async stop(): Promise<void> {
    const tray = this.tray;
    this.tray = undefined;
    this.shown = undefined;
    if (!tray?.process || tray.process.exitCode !== null || tray.process.signalCode !== null) return;
    this.closing = true;
    const child = tray.process;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await tray.kill(false).catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, 3_000)))]);
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  /** The tray program's last complaint, without GLib's `(program:pid): Gtk-WARNING **: time:` prefix. */
  private lastError(): string | undefined {
    return this.stderr
      .at(-1)
      ?.replace(/^\(.*?\):\s*[\w-]+ \*\*:\s*[\d:.]+:\s*/, '')
      .trim();
  }
}

function toSysItem(item: TrayItem): SysItem {
  if (item.title === SEPARATOR) return { title: '<SEPARATOR>', tooltip: '', enabled: true };
  return {
    title: item.title,
    tooltip: item.tooltip,
    enabled: item.enabled,
    checked: false,
    ...(item.action ? { action: item.action } : {}),
    ...(item.items ? { items: item.items.map(toSysItem) } : {}),
  };
}

/** systray2 (CommonJS with `exports.default`); `TRAY_UNAVAILABLE` when it cannot be loaded. */
async function loadSysTray(): Promise<SysTrayClass> {
  try {
    const module = (await import('systray2')) as unknown as {
      default: SysTrayClass | { default: SysTrayClass };
    };
    const exported = module.default;
    return 'default' in exported ? exported.default : exported;
  } catch (error) {
    throw unavailable(`the systray2 package cannot be loaded (${(error as Error).message})`);
  }
}

/** systray2 starts its program after resolving the binary's path: waits for the child process. */
async function spawned(tray: SysTrayInstance, failure: () => string | undefined): Promise<ChildProcess> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!tray.process) {
    const failed = failure();
    if (failed) throw unavailable(`the tray program could not start: ${failed}`);
    if (Date.now() > deadline) throw unavailable('the tray program did not start');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return tray.process;
}
