export {
  DEFAULT_DHT_BOOTSTRAP,
  DEFAULT_RELAYS,
  LOOKUP_TIMEOUT_MS,
  MAX_TTL_SECONDS,
  MIN_TTL_SECONDS,
} from './defaults.js';
export {
  DEFAULT_DHT_GET_TIMEOUT_MS,
  PkarrDht,
  PkarrDhtError,
  type PkarrDhtErrorCode,
  type PkarrDhtStartOptions,
} from './dht.js';
export {
  domainEndpoint,
  type HomeserverEndpoint,
  homeserverEndpoints,
  homeserverOf,
  type PubkyTarget,
  pubkyTargetOf,
} from './endpoints.js';
export type { PkarrPacketErrorCode, PkdnsErrorCode } from './errors.js';
export { PkarrPacketError, PkarrRelayError, PkdnsError } from './errors.js';
export { type LookupResult, lookupPacket, type SourceAttempt } from './lookup.js';
export { type DhtPutter, type PublishOptions, type PublishOutcome, publishHomeserver } from './publish.js';
export type {
  HomeserverHttpsRecordOptions,
  PkarrRecord,
  PkarrRecordType,
  SvcbData,
} from './records.js';
export {
  DEFAULT_RECORD_TTL,
  decodeDnsPacket,
  encodeDnsPacket,
  HTTP_PORT_PARAM,
  homeserverHttpsRecord,
  PUBKY_RECORD_NAME,
  pubkyRecord,
  svcbHttpPort,
} from './records.js';
export type { PutToRelayOptions, RelayRequestOptions } from './relay-client.js';
export { getFromRelay, putToRelay, relayPacketUrl } from './relay-client.js';
export {
  fileResolutionStore,
  type ResolutionStore,
  type StoredResolution,
} from './resolution-store.js';
export {
  type AnswerSource,
  describe as describeAttempts,
  type HomeserverResolution,
  type PacketAnswer,
  PkdnsResolver,
  type ResolverOptions,
} from './resolver.js';
export {
  MAX_DNS_PACKET_BYTES,
  MAX_RELAY_PAYLOAD_BYTES,
  MAX_SIGNED_PACKET_BYTES,
  SignedPacket,
} from './signed-packet.js';
export { type DhtGetter, dhtSource, type PacketSource, relaySource } from './sources.js';
