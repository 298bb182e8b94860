export { launchdLogPath, launchdPath, launchdPlist } from './launchd.js';
export {
  type CommandResult,
  installService,
  type RunCommand,
  runCommand,
  type ServiceContext,
  type ServiceFile,
  type ServiceReport,
  type ServiceStatus,
  serviceFile,
  serviceStatus,
  systemContext,
  systemdAvailable,
  uninstallService,
} from './manager.js';
export {
  checkSpec,
  daemonArgv,
  LAUNCHD_LABEL,
  SERVICE_NAME,
  type ServiceSpec,
  temporaryInstallWarning,
} from './spec.js';
export { systemdPaths, systemdQuote, systemdUnit, UNIT_NAME } from './systemd.js';
export { cmdQuote, startupScript, startupScriptPath } from './windows.js';
