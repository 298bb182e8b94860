import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keypair } from '../../src/identity/index.js';
import {
  decodeDnsPacket,
  encodeDnsPacket,
  HTTP_PORT_PARAM,
  homeserverHttpsRecord,
  PkarrPacketError,
  type PkarrRecord,
  pubkyRecord,
  type SvcbData,
  svcbHttpPort,
} from '../../src/pkdns/index.js';
import { thrown } from '../helpers/errors.js';

const ORIGIN = Keypair.fromSecret(new Uint8Array(32).fill(3)).publicKey;
const OTHER = Keypair.fromSecret(new Uint8Array(32).fill(4)).publicKey;

/** A DNS message with one answer owned by `owner` (uncompressed), built by hand. */
function handBuilt(owner: string, typeCode: number, rdata: Uint8Array, ttl = 60): Uint8Array {
  const name = Buffer.concat([
    ...owner
      .split('.')
      .filter(Boolean)
      .map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)])),
    Buffer.from([0]),
  ]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(typeCode, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  const header = Buffer.from([0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  return Buffer.concat([header, name, fixed, rdata]);
}

// ---------------------------------------------------------------------------------------------
// Generators: records in the canonical form decoding gives back.

const label = fc.stringMatching(/^[a-z0-9_-]{1,20}$/);
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'));
const recordName = fc.oneof(fc.constant('.'), domain);
const ttl = fc.integer({ min: 0, max: 0xffffffff });
/** Type codes decoded as UNKNOWN whose RDATA has no names to expand. */
const opaqueTypeCode = fc
  .integer({ min: 0, max: 0xffff })
  .filter((code) => ![1, 2, 5, 6, 12, 15, 16, 28, 33, 64, 65].includes(code));
const svcbData: fc.Arbitrary<SvcbData> = fc.record({
  priority: fc.integer({ min: 0, max: 0xffff }),
  target: fc.oneof(fc.constant('.'), domain),
  params: fc
    .uniqueArray(fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 16 })), {
      selector: ([key]) => key,
      maxLength: 4,
    })
    .map((entries) => new Map(entries)),
});

const record: fc.Arbitrary<PkarrRecord> = fc.oneof(
  fc.record({
    name: recordName,
    ttl,
    type: fc.constantFrom('HTTPS' as const, 'SVCB' as const),
    data: svcbData,
  }),
  fc.record({ name: recordName, ttl, type: fc.constant('A' as const), data: fc.ipV4() }),
  fc.record({
    name: recordName,
    ttl,
    type: fc.constant('AAAA' as const),
    // Decoding gives the RFC 5952 form, which is also what the URL parser prints.
    data: fc.ipV6().map((ip) => new URL(`http://[${ip}]`).hostname.slice(1, -1)),
  }),
  fc.record({ name: recordName, ttl, type: fc.constantFrom('CNAME' as const, 'NS' as const), data: domain }),
  fc.record({
    name: recordName,
    ttl,
    type: fc.constant('TXT' as const),
    data: fc.array(fc.string({ unit: 'binary', maxLength: 60 }), { maxLength: 3 }),
  }),
  fc.record({
    name: recordName,
    ttl,
    type: fc.constant('UNKNOWN' as const),
    typeCode: opaqueTypeCode,
    data: fc.uint8Array({ maxLength: 40 }),
  }),
);

describe('DNS packet codec', () => {
  it('decodes what it encodes, and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 8 }), (records) => {
        const bytes = encodeDnsPacket(ORIGIN, records);
        const decoded = decodeDnsPacket(ORIGIN, bytes);
        expect(decoded).toEqual(records);
        expect(Buffer.from(encodeDnsPacket(ORIGIN, decoded))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('writes the header pkarr writes: id 0, QR set, answers only', () => {
    const bytes = encodeDnsPacket(ORIGIN, [pubkyRecord(OTHER)]);
    expect([...bytes.subarray(0, 12)]).toEqual([0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('writes `_pubky` byte-for-byte like the official SDK', () => {
    // Same layout as a packet captured from @synonymdev/pubky 0.6.0 publishHomeserverForce.
    const expected = handBuilt(
      `_pubky.${ORIGIN.z32}`,
      65,
      Buffer.concat([Buffer.from([0, 0, 52]), Buffer.from(OTHER.z32), Buffer.from([0])]),
      3600,
    );
    expect(Buffer.from(encodeDnsPacket(ORIGIN, [pubkyRecord(OTHER)]))).toEqual(Buffer.from(expected));
  });

  it('compresses repeated owner names with pointers', () => {
    const records: PkarrRecord[] = [
      homeserverHttpsRecord(6286),
      { name: '.', ttl: 3600, type: 'A', data: '127.0.0.1' },
      { name: 'sub', ttl: 3600, type: 'TXT', data: ['hi'] },
    ];
    const bytes = Buffer.from(encodeDnsPacket(ORIGIN, records));
    // The first owner (the bare key) starts at offset 12; later owners point at it.
    expect(bytes.indexOf(Buffer.from([0xc0, 12]))).toBeGreaterThan(12);
    expect(bytes.indexOf(Buffer.from(ORIGIN.z32))).toBe(13);
    expect(bytes.lastIndexOf(Buffer.from(ORIGIN.z32))).toBe(13);
    expect(decodeDnsPacket(ORIGIN, bytes)).toEqual(records);
  });

  it('accepts `@`, `` and absolute names, and stores them relative to the key', () => {
    const records = [
      '@',
      '',
      '.',
      ORIGIN.z32,
      `${ORIGIN.z32}.`,
      `foo.${ORIGIN.z32}`,
      'foo.',
      `Foo.${ORIGIN.z32.toUpperCase()}`,
    ].map((name): PkarrRecord => ({ name, ttl: 1, type: 'A', data: '1.2.3.4' }));
    const names = decodeDnsPacket(ORIGIN, encodeDnsPacket(ORIGIN, records)).map((r) => r.name);
    expect(names).toEqual(['.', '.', '.', '.', '.', 'foo', 'foo', 'Foo']);
  });

  it('skips records owned by another name (pkarr can never resolve them)', () => {
    const foreign = handBuilt('example.com', 1, new Uint8Array([1, 2, 3, 4]));
    expect(decodeDnsPacket(ORIGIN, foreign)).toEqual([]);
    const otherKey = handBuilt(`_pubky.${OTHER.z32}`, 1, new Uint8Array([1, 2, 3, 4]));
    expect(decodeDnsPacket(ORIGIN, otherKey)).toEqual([]);
  });

  it('keeps TXT text exactly, even a leading byte order mark', () => {
    const records: PkarrRecord[] = [{ name: '.', ttl: 1, type: 'TXT', data: ['\uFEFFbom', '', 'é'] }];
    expect(decodeDnsPacket(ORIGIN, encodeDnsPacket(ORIGIN, records))).toEqual(records);
  });

  it('keeps a TXT record that is not UTF-8 as exact bytes', () => {
    const rdata = new Uint8Array([2, 0xff, 0xfe]);
    expect(decodeDnsPacket(ORIGIN, handBuilt(ORIGIN.z32, 16, rdata))).toEqual([
      { name: '.', ttl: 60, type: 'UNKNOWN', typeCode: 16, data: rdata },
    ]);
  });

  it('expands compression pointers inside MX data, so the raw bytes stand alone', () => {
    // MX 10 -> "mail" + pointer to the owner name at offset 12.
    const packet = handBuilt(ORIGIN.z32, 15, new Uint8Array([0, 10, 4, ...Buffer.from('mail'), 0xc0, 12]));
    const [mx] = decodeDnsPacket(ORIGIN, packet);
    expect(mx).toMatchObject({ type: 'UNKNOWN', typeCode: 15 });
    const expanded = Buffer.concat([
      Buffer.from([0, 10, 4]),
      Buffer.from('mail'),
      Buffer.from([52]),
      Buffer.from(ORIGIN.z32),
      Buffer.from([0]),
    ]);
    expect(Buffer.from(mx?.data as Uint8Array)).toEqual(expanded);
  });
});

describe('SVCB / HTTPS RDATA (RFC 9460 appendix D test vectors)', () => {
  const vectors: Array<[string, SvcbData, number[]]> = [
    [
      'D.1 AliasMode',
      { priority: 0, target: 'foo.example.com', params: new Map() },
      [0, 0, 3, ...Buffer.from('foo'), 7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0],
    ],
    ['D.2.3 TargetName is "."', { priority: 1, target: '.', params: new Map() }, [0, 1, 0]],
    [
      'D.2.4 a port',
      { priority: 16, target: 'foo.example.com', params: new Map([[3, new Uint8Array([0, 53])]]) },
      [
        0,
        16,
        3,
        ...Buffer.from('foo'),
        7,
        ...Buffer.from('example'),
        3,
        ...Buffer.from('com'),
        0,
        0,
        3,
        0,
        2,
        0,
        53,
      ],
    ],
    [
      'D.2.10 keys sorted in wire format',
      {
        priority: 16,
        target: 'foo.example.org',
        // Inserted out of order on purpose.
        params: new Map([
          [4, new Uint8Array([192, 0, 2, 1])],
          [0, new Uint8Array([0, 1, 0, 4])],
          [1, new Uint8Array([2, ...Buffer.from('h2'), 5, ...Buffer.from('h3-19')])],
        ]),
      },
      [
        0,
        16,
        3,
        ...Buffer.from('foo'),
        7,
        ...Buffer.from('example'),
        3,
        ...Buffer.from('org'),
        0,
        ...[0, 0, 0, 4, 0, 1, 0, 4],
        ...[0, 1, 0, 9, 2, ...Buffer.from('h2'), 5, ...Buffer.from('h3-19')],
        ...[0, 4, 0, 4, 192, 0, 2, 1],
      ],
    ],
  ];

  it.each(vectors)('%s', (_title, data, rdata) => {
    const bytes = Buffer.from(encodeDnsPacket(ORIGIN, [{ name: '.', ttl: 60, type: 'SVCB', data }]));
    expect(bytes).toEqual(Buffer.from(handBuilt(ORIGIN.z32, 64, new Uint8Array(rdata))));
    const [decoded] = decodeDnsPacket(ORIGIN, bytes);
    expect(decoded).toEqual({ name: '.', ttl: 60, type: 'SVCB', data });
  });

  it('rejects SvcParamKeys out of order or repeated (as simple-dns does)', () => {
    const unordered = [0, 1, 0, 0, 3, 0, 2, 0, 80, 0, 1, 0, 0];
    const repeated = [0, 1, 0, 0, 3, 0, 2, 0, 80, 0, 3, 0, 2, 0, 81];
    for (const rdata of [unordered, repeated]) {
      expect(
        thrown(
          () => decodeDnsPacket(ORIGIN, handBuilt(ORIGIN.z32, 65, new Uint8Array(rdata))),
          PkarrPacketError,
        ).code,
      ).toBe('MALFORMED_DNS');
    }
  });

  it('follows a compression pointer in the target like simple-dns, though RFC 9460 forbids writing one', () => {
    const rdata = new Uint8Array([0, 1, 0xc0, 12]);
    const [decoded] = decodeDnsPacket(ORIGIN, handBuilt(ORIGIN.z32, 65, rdata));
    expect(decoded).toMatchObject({ type: 'HTTPS', data: { priority: 1, target: ORIGIN.z32 } });
  });
});

describe('pubky record helpers', () => {
  it('pubkyRecord is the `_pubky` HTTPS record pointing at the homeserver', () => {
    expect(pubkyRecord(OTHER)).toEqual({
      name: '_pubky',
      ttl: 3600,
      type: 'HTTPS',
      data: { priority: 0, target: OTHER.z32, params: new Map() },
    });
  });

  it('homeserverHttpsRecord carries HTTP_PORT (65280) as a big-endian u16', () => {
    const record = homeserverHttpsRecord(6286);
    expect(record).toMatchObject({ name: '.', ttl: 3600, type: 'HTTPS' });
    if (record.type !== 'HTTPS') throw new Error('not HTTPS');
    expect(record.data.priority).toBe(10);
    expect(record.data.target).toBe('localhost');
    expect([...(record.data.params.get(HTTP_PORT_PARAM) ?? [])]).toEqual([0x18, 0x8e]);
    expect(svcbHttpPort(record.data)).toBe(6286);
    const custom = homeserverHttpsRecord(80, { host: 'testnet.local', priority: 3, ttl: 60 });
    expect(custom).toMatchObject({ ttl: 60, data: { priority: 3, target: 'testnet.local' } });
  });

  it('svcbHttpPort is undefined without a well-formed param', () => {
    expect(svcbHttpPort({ priority: 1, target: '.', params: new Map() })).toBeUndefined();
    const odd = new Map([[HTTP_PORT_PARAM, new Uint8Array([1, 2, 3])]]);
    expect(svcbHttpPort({ priority: 1, target: '.', params: odd })).toBeUndefined();
  });

  it('svcbHttpPort reads every port', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (port) => {
        const record = homeserverHttpsRecord(port);
        if (record.type !== 'HTTPS') throw new Error('not HTTPS');
        expect(svcbHttpPort(record.data)).toBe(port);
      }),
    );
  });
});

describe('invalid records are refused with INVALID_RECORD', () => {
  const cases: Array<[string, PkarrRecord]> = [
    ['bad IPv4', { name: '.', ttl: 1, type: 'A', data: '999.1.1.1' }],
    ['IPv6 in an A record', { name: '.', ttl: 1, type: 'A', data: '::1' }],
    ['bad IPv6', { name: '.', ttl: 1, type: 'AAAA', data: '1::2::3' }],
    ['IPv6 with a zone', { name: '.', ttl: 1, type: 'AAAA', data: 'fe80::1%eth0' }],
    ['negative TTL', { name: '.', ttl: -1, type: 'A', data: '1.2.3.4' }],
    ['TTL above u32', { name: '.', ttl: 2 ** 32, type: 'A', data: '1.2.3.4' }],
    ['label over 63 bytes', { name: 'a'.repeat(64), ttl: 1, type: 'A', data: '1.2.3.4' }],
    ['empty label', { name: 'a..b', ttl: 1, type: 'A', data: '1.2.3.4' }],
    [
      'name over 255 bytes',
      { name: Array(5).fill('a'.repeat(60)).join('.'), ttl: 1, type: 'A', data: '1.2.3.4' },
    ],
    ['TXT string over 255 bytes', { name: '.', ttl: 1, type: 'TXT', data: ['é'.repeat(128)] }],
    [
      'priority above u16',
      { name: '.', ttl: 1, type: 'HTTPS', data: { priority: 65536, target: '.', params: new Map() } },
    ],
    [
      'SvcParamKey above u16',
      {
        name: '.',
        ttl: 1,
        type: 'SVCB',
        data: { priority: 1, target: '.', params: new Map([[70000, new Uint8Array()]]) },
      },
    ],
    ['type code above u16', { name: '.', ttl: 1, type: 'UNKNOWN', typeCode: 65536, data: new Uint8Array() }],
    ['unknown type name', { name: '.', ttl: 1, type: 'MX', data: 'x' } as unknown as PkarrRecord],
    ['inherited type name', { name: '.', ttl: 1, type: 'toString', data: 'x' } as unknown as PkarrRecord],
  ];

  it.each(cases)('%s', (_title, record) => {
    expect(thrown(() => encodeDnsPacket(ORIGIN, [record]), PkarrPacketError).code).toBe('INVALID_RECORD');
  });
});

describe('malformed DNS is refused with MALFORMED_DNS, never another error', () => {
  const valid = encodeDnsPacket(ORIGIN, [
    pubkyRecord(OTHER),
    homeserverHttpsRecord(6286),
    { name: 'x', ttl: 5, type: 'TXT', data: ['a', 'b'] },
    { name: '.', ttl: 5, type: 'AAAA', data: '::1' },
    { name: 'c', ttl: 5, type: 'CNAME', data: 'example.com' },
  ]);

  it('every truncation of a valid packet', () => {
    for (let length = 0; length < valid.length; length++) {
      expect(thrown(() => decodeDnsPacket(ORIGIN, valid.subarray(0, length)), PkarrPacketError).code).toBe(
        'MALFORMED_DNS',
      );
    }
  });

  it('random bytes and random corruptions', () => {
    const corrupted = fc
      .tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
      .map(([edits]) => {
        const bytes = Uint8Array.from(valid);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        return bytes;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), corrupted), (bytes) => {
        try {
          decodeDnsPacket(ORIGIN, bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(PkarrPacketError);
          expect((error as PkarrPacketError).code).toBe('MALFORMED_DNS');
        }
      }),
      { numRuns: 2000 },
    );
  });

  const cases: Array<[string, Uint8Array]> = [
    ['A with 3 data bytes', handBuilt(ORIGIN.z32, 1, new Uint8Array([1, 2, 3]))],
    ['AAAA with 4 data bytes', handBuilt(ORIGIN.z32, 28, new Uint8Array([1, 2, 3, 4]))],
    ['CNAME with bytes after its name', handBuilt(ORIGIN.z32, 5, new Uint8Array([1, 97, 0, 9]))],
    ['TXT string longer than its record', handBuilt(ORIGIN.z32, 16, new Uint8Array([5, 97]))],
    ['SVCB shorter than 3 bytes', handBuilt(ORIGIN.z32, 64, new Uint8Array([0, 1]))],
    ['SvcParam longer than its record', handBuilt(ORIGIN.z32, 65, new Uint8Array([0, 1, 0, 0, 3, 0, 9, 1]))],
    ['SvcParam header cut', handBuilt(ORIGIN.z32, 65, new Uint8Array([0, 1, 0, 0, 3]))],
    ['forward compression pointer', handBuilt(ORIGIN.z32, 5, new Uint8Array([0xc0, 200]))],
    ['self-pointing owner name', Buffer.from([0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 12])],
    ['header only, claiming an answer', Buffer.from([0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['claiming a question that is missing', Buffer.from([0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0])],
    ['additional record cut', Buffer.from([0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1])],
  ];

  it.each(cases)('%s', (_title, bytes) => {
    expect(thrown(() => decodeDnsPacket(ORIGIN, bytes), PkarrPacketError).code).toBe('MALFORMED_DNS');
  });
});
