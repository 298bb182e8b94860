import {
  aggregate,
  keyLabel,
  keyLevel,
  levelTitle,
  offlineStatus,
  pausedByGuard,
  type StatusKey,
  shortPubky,
  type TrayLevel,
} from './status.js';

/** What a menu entry does when clicked. */
export type TrayAction =
  | { kind: 'open-dashboard' }
  | { kind: 'sync-all' }
  | { kind: 'pause-all' }
  | { kind: 'resume-all' }
  | { kind: 'sync-key'; pubky: string }
  | { kind: 'pause-key'; pubky: string }
  | { kind: 'resume-key'; pubky: string }
  | { kind: 'open-key'; pubky: string; folder: string }
  | { kind: 'quit' };

/** One menu entry (a separator has the title `-`). */
export interface TrayItem {
  title: string;
  tooltip: string;
  enabled: boolean;
  action?: TrayAction;
  items?: TrayItem[];
}

/** Everything the tray shows: the icon's level, its tooltip and the menu. */
export interface TrayMenu {
  level: TrayLevel;
  tooltip: string;
  items: TrayItem[];
}

export const SEPARATOR = '-';
/** More pubkys than this get one "… N more" entry that opens the dashboard. */
export const MAX_KEY_ENTRIES = 20;

/**
 * The menu for the daemon's current status (`keys`), or for no daemon (`undefined`): a status line,
 * Open dashboard, Force sync all, Pause all / Resume all, one entry per pubky with its state (Force
 * sync, Pause/Resume, Open folder), Quit.
 */
export function buildMenu(keys: readonly StatusKey[] | undefined): TrayMenu {
  const online = keys !== undefined;
  const status = online ? aggregate(keys) : offlineStatus();
  const active = (keys ?? []).filter((key) => key.active);
  const allPaused = active.length > 0 && active.every((key) => keyLevel(key) === 'paused');
  const userPaused = active.filter((key) => key.paused?.reason === 'user');
  const resumeAll = allPaused && userPaused.length > 0;
  const items: TrayItem[] = [
    item(`${levelTitle(status.level)} — ${status.summary}`, 'status of the backup', false),
    separator(),
    item('Open dashboard', 'open the dashboard in the browser', online, { kind: 'open-dashboard' }),
    item('Force sync all', 'catch every pubky up with its homeserver now', online && active.length > 0, {
      kind: 'sync-all',
    }),
    resumeAll
      ? item('Resume all', 'resume every pubky you paused', true, { kind: 'resume-all' })
      : item('Pause all', 'pause the backup of every pubky', online && !allPaused && active.length > 0, {
          kind: 'pause-all',
        }),
  ];
  if (active.length > 0) items.push(separator());
  for (const key of active.slice(0, MAX_KEY_ENTRIES)) items.push(keyEntry(key));
  if (active.length > MAX_KEY_ENTRIES) {
    items.push(
      item(`… ${active.length - MAX_KEY_ENTRIES} more`, 'open the dashboard to see them all', true, {
        kind: 'open-dashboard',
      }),
    );
  }
  items.push(separator());
  items.push(
    item(online ? 'Quit' : 'Quit tray', online ? 'stop the tray and the daemon' : 'stop the tray', true, {
      kind: 'quit',
    }),
  );
  return { level: status.level, tooltip: status.tooltip, items };
}

/**
 * The menu's structure: entries and submenus without their texts. The tray program cannot add or
 * remove entries once shown, so a new structure means showing a new menu.
 */
export function menuShape(menu: TrayMenu): string {
  const shape = (items: readonly TrayItem[]): string =>
    items
      .map((entry) => (entry.items ? `[${shape(entry.items)}]` : entry.title === SEPARATOR ? '-' : 'i'))
      .join('');
  return shape(menu.items);
}

function keyEntry(key: StatusKey): TrayItem {
  const { pubky } = key;
  const paused = keyLevel(key) === 'paused';
  const toggle = !paused
    ? item('Pause', 'pause the backup of this pubky', true, { kind: 'pause-key', pubky })
    : pausedByGuard(key)
      ? item(
          'Resume (needs accepting the deletes)',
          `the homeserver deleted ${key.paused?.deletes} of ${key.paused?.files} files at once; resume with: pubky-backup resume ${pubky} --accept-deletes`,
          false,
        )
      : item('Resume', 'resume the backup of this pubky', true, { kind: 'resume-key', pubky });
  return {
    ...item(`${shortPubky(pubky)} — ${keyLabel(key)}`, pubky, true),
    items: [
      item('Force sync', 'catch this pubky up with its homeserver now', !paused, { kind: 'sync-key', pubky }),
      toggle,
      item('Open folder', `open ${key.folder}`, true, { kind: 'open-key', pubky, folder: key.folder }),
    ],
  };
}

function item(title: string, tooltip: string, enabled: boolean, action?: TrayAction): TrayItem {
  return action ? { title, tooltip, enabled, action } : { title, tooltip, enabled };
}

function separator(): TrayItem {
  return { title: SEPARATOR, tooltip: '', enabled: true };
}
