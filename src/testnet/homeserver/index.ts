export type { HomeserverLimits } from './context.js';
export type { ActiveFaultRule, Fault, FaultRule, RouteName } from './faults.js';
export { FaultPlan } from './faults.js';
export { Homeserver, type HomeserverOptions } from './homeserver.js';
export type { FeedEvent, FileMeta } from './state.js';
export type { FileTamper } from './tamper.js';
