export { type FileVersion, listVersions, parseVersion } from './list.js';
export { planVersionPrune, pruneVersions, type VersionPrunePlan } from './prune.js';
export { pickVersion, type RestoredVersion, restoreVersion, VersionNotFoundError } from './restore.js';
export { runVersionRetention } from './schedule.js';
