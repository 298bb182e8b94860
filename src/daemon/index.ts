export { type ApiOptions, createApi } from './api.js';
export { DaemonClient } from './client.js';
export { type DaemonOptions, runDaemon, STOP_DEADLINE_MS } from './daemon.js';
export { type DaemonInfo, daemonFile, findDaemon, readDaemonInfo } from './daemon-file.js';
export { logsDir } from './logger.js';
