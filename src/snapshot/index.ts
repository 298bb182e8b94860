export { type CheckProblem, type CheckReport, checkSnapshot, readManifest } from './check.js';
export {
  type CreatedSnapshot,
  createSnapshot,
  removeSnapshotLeftovers,
  type SnapshotOptions,
} from './create.js';
export { SnapshotError } from './errors.js';
export { type ExtractResult, extractSnapshot } from './extract.js';
export { snapshotKey } from './key-snapshot.js';
export { listSnapshots, type SnapshotInfo } from './list.js';
export { MANIFEST_NAME, type Manifest } from './manifest.js';
export { snapshotName, snapshotTime } from './naming.js';
export { hasPolicy, type PrunePlan, planPrune, planPruneKeepingGood, type RetentionPolicy } from './prune.js';
export { runSnapshotSchedule, type ScheduleOptions } from './schedule.js';
export { openZip, type ZipArchive } from './zip-reader.js';
