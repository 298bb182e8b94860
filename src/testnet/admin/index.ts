export type { AdminContext, AdminRoute } from './admin-route.js';
export {
  type AdminServer,
  type AdminServerOptions,
  DEFAULT_ADMIN_PASSWORD,
  startAdminServer,
} from './admin-server.js';
export type { FaultRuleJson } from './fault-json.js';
export { EMULATED_VERSION } from './routes-homeserver.js';
