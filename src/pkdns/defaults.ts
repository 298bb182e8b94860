/** Public pkarr relays (pkarr `relays.txt`); the CLI's `--relay` / `PUBKY_RELAYS` replace them. */
export const DEFAULT_RELAYS = [
  'https://pkarr.pubky.app',
  'https://pkarr.pubky.org',
  'https://relay.pkarr.org',
];

/** Mainline DHT bootstrap nodes (bittorrent-dht's defaults); `--dht-bootstrap` replaces them. */
export const DEFAULT_DHT_BOOTSTRAP = [
  'router.bittorrent.com:6881',
  'router.utorrent.com:6881',
  'dht.transmissionbt.com:6881',
];

/** pkarr's cache clamps: a packet is fresh for its smallest record TTL, within these bounds. */
export const MIN_TTL_SECONDS = 300;
export const MAX_TTL_SECONDS = 86_400;

/** How long one relay may take to answer one request (pkarr's default request timeout). */
export const RELAY_REQUEST_TIMEOUT_MS = 2_000;

/** A whole lookup (all relays and the DHT together) ends by then, answer or not. */
export const LOOKUP_TIMEOUT_MS = 10_000;

/** A packet may claim a time this far past our clock (clocks drift); later ones are refused. */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
