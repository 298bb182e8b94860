import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import {
  HTTP_PORT_PARAM,
  homeserverEndpoints,
  type PkarrRecord,
  SignedPacket,
} from '../../src/pkdns/index.js';

const homeserver = Keypair.fromSecret(new Uint8Array(32).fill(9));
const svcb = (type: 'HTTPS' | 'SVCB', priority: number, target: string, params = new Map()): PkarrRecord => ({
  name: '.',
  ttl: 3600,
  type,
  data: { priority, target, params },
});
const port = (n: number) => new Uint8Array([n >> 8, n & 0xff]);
const endpointsOf = (records: PkarrRecord[]) =>
  homeserverEndpoints(SignedPacket.build(homeserver, records)).map((e) => e.url);

// The homeserver's own packet as each pubky-core generation published it (key republisher).
describe('homeserver endpoints of every generation', () => {
  it('pubky 0.3: `. SVCB 0 <domain>` (AliasMode) names the domain', () => {
    expect(endpointsOf([svcb('SVCB', 0, 'homeserver.example.org')])).toEqual([
      'https://homeserver.example.org',
    ]);
  });

  it('early homeservers: `. HTTPS 0 homeserver.example.org.` resolves to that endpoint', () => {
    expect(endpointsOf([svcb('HTTPS', 0, 'homeserver.example.org.')])).toEqual([
      'https://homeserver.example.org',
    ]);
  });

  it('0.4 – 0.5.1: `HTTPS 0 .` (pubky-TLS, skipped) and `HTTPS 10 <domain>`', () => {
    const records = [svcb('HTTPS', 0, '.', new Map([[3, port(6287)]])), svcb('HTTPS', 10, 'hs.example')];
    expect(endpointsOf(records)).toEqual(['https://hs.example']);
  });

  it('0.5.2+: `HTTPS 1 .` and `HTTPS 10 localhost` with HTTP_PORT (testnets)', () => {
    const records = [
      svcb('HTTPS', 1, '.'),
      svcb('HTTPS', 10, 'localhost', new Map([[HTTP_PORT_PARAM, port(6286)]])),
    ];
    expect(endpointsOf(records)).toEqual(['http://localhost:6286']);
  });

  it('a domain on another port keeps the port', () => {
    expect(endpointsOf([svcb('HTTPS', 10, 'hs.example', new Map([[3, port(8443)]]))])).toEqual([
      'https://hs.example:8443',
    ]);
  });
});
