export { checkTrayLibraries, LINUX_TRAY_PACKAGE, prepareTrayBinary, type TrayBinary } from './binary.js';
export { dashboardUrl, openExternal } from './dashboard.js';
export { SysTrayHost, type TrayHost } from './host.js';
export { ICON_SIZE, iconPng, STATUS_COLORS, trayIcon } from './icons.js';
export { buildMenu, type TrayAction, type TrayItem, type TrayMenu } from './menu.js';
export { desktopNotifier, IncidentNotifier, type Notification, type Notify } from './notifier.js';
export { type RunTrayOptions, runTray } from './run.js';
export { aggregate, keyLevel, type StatusKey, type TrayLevel, type TrayStatus } from './status.js';
export { TrayApp, type TrayAppOptions, type TrayEnd } from './tray-app.js';
