export type { PkarrPacketErrorCode } from './errors.js';
export { PkarrPacketError, PkarrRelayError } from './errors.js';
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
  homeserverOf,
  MAX_DNS_PACKET_BYTES,
  MAX_RELAY_PAYLOAD_BYTES,
  MAX_SIGNED_PACKET_BYTES,
  SignedPacket,
} from './signed-packet.js';
