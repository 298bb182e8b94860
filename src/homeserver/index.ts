export {
  AUTH_TOKEN_MAX_SKEW_MS,
  type AuthToken,
  AuthTokenError,
  type Capability,
  formatCapabilities,
  parseAuthToken,
  parseCapabilities,
  signAuthToken,
} from './auth-token.js';
export {
  type EventsPage,
  type EventsStreamOptions,
  type FileMeta,
  type FileResponse,
  HomeserverClient,
  type HomeserverClientOptions,
  type ListOptions,
  type PutOptions,
  type ResponseBody,
  type Session,
} from './client.js';
export {
  HomeserverError,
  type HomeserverErrorDetails,
  type HomeserverErrorKind,
  isMissingRoute,
  kindOfStatus,
  MAX_ERROR_BODY_BYTES,
  parseRetryAfter,
} from './errors.js';
export {
  compareCursors,
  type FeedEvent,
  isCursor,
  parseFeedCursor,
  parseFeedLine,
  parseSseEvent,
} from './events.js';
export { encodePathForUrl } from './url-path.js';
