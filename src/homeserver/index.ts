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
export { type HomeserverBaseUrl, homeserverBaseUrl } from './base-url.js';
export {
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
  type EventsPage,
  type FeedEntry,
  type FeedEvent,
  isCursor,
  isEventId,
  parseEventsPage,
  parseFeedLine,
  parseSseEvent,
  type SkippedEntry,
} from './events.js';
export { canonicalBlake3 } from './hash-text.js';
export { type ListingPage, parseListing } from './listing.js';
export { encodePathForUrl } from './url-path.js';
