export type { HomeserverLimits } from './context.js';
export type { Fault, FaultRule, RouteName } from './faults.js';
export { FaultPlan } from './faults.js';
export { Homeserver, type HomeserverOptions } from './homeserver.js';
export type { FeedEvent, FileMeta } from './state.js';
