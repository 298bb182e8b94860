import { homedir } from 'node:os';
import { join } from 'node:path';
import { daemonArgv, LAUNCHD_LABEL, type ServiceSpec } from './spec.js';

/** `~/Library/LaunchAgents/org.pubky.backup.plist`. */
export function launchdPath(home: string = homedir()): string {
  return join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
}

/** `~/Library/Logs/pubky-backup.log`: what the daemon prints (its own logs are in the data folder). */
export function launchdLogPath(home: string = homedir()): string {
  return join(home, 'Library', 'Logs', 'pubky-backup.log');
}

/** Text escaped for an XML element. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The launchd agent: started at login (`RunAtLoad`) and kept alive after a failure, but not after a
 * clean exit (`KeepAlive.SuccessfulExit = false`), so `daemon stop` and the tray's Quit stay stopped.
 */
export function launchdPlist(spec: ServiceSpec, home: string = homedir()): string {
  const args = daemonArgv(spec)
    .map((arg) => `    <string>${xmlEscape(arg)}</string>`)
    .join('\n');
  const log = xmlEscape(launchdLogPath(home));
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by pubky-backup service install; remove with pubky-backup service uninstall. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>10</integer>
  <key>ProcessType</key>
  <string>Background</string>
  <key>StandardOutPath</key>
  <string>${log}</string>
  <key>StandardErrorPath</key>
  <string>${log}</string>
</dict>
</plist>
`;
}
