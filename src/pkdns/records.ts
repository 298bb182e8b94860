import { isIPv4, isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';
import type { PublicKey } from '../identity/index.js';
import { PkarrPacketError } from './errors.js';

/**
 * The DNS records inside a pkarr signed packet, and their wire codec (RFC 1035 message with
 * answers only, owner names compressed like pkarr's `simple-dns` does).
 *
 * `dns-packet` gives us name decompression and IP text codecs; it knows neither SVCB (64) nor
 * HTTPS (65), and trusts RDLENGTH too much to be fed signed bytes from strangers, so the message
 * framing is done here and every length is checked.
 */

/** RFC 9460 SVCB/HTTPS RDATA. `params` maps an SvcParamKey to its raw value. */
export interface SvcbData {
  priority: number;
  /** Absolute domain name; `.` means "the owner itself" (RFC 9460 §2.5). */
  target: string;
  params: Map<number, Uint8Array>;
}

/**
 * One resource record. `name` is relative to the packet's key: `.` for the apex, `_pubky` for
 * `_pubky.<z32>`. Names inside data (targets) are absolute, e.g. `localhost` or a bare z32.
 * Types without a model here keep their RDATA bytes as `UNKNOWN` (lossless).
 */
export type PkarrRecord =
  | { name: string; ttl: number; type: 'HTTPS' | 'SVCB'; data: SvcbData }
  | { name: string; ttl: number; type: 'A' | 'AAAA' | 'CNAME' | 'NS'; data: string }
  | { name: string; ttl: number; type: 'TXT'; data: string[] }
  | { name: string; ttl: number; type: 'UNKNOWN'; typeCode: number; data: Uint8Array };

export type PkarrRecordType = PkarrRecord['type'];

/** A record without its owner name and TTL: what RDATA decodes to. */
type RecordBody = WithoutOwner<PkarrRecord>;
type WithoutOwner<R> = R extends unknown ? Omit<R, 'name' | 'ttl'> : never;

/** Private SvcParamKey pubky homeservers use for the plain-HTTP port of a `localhost` endpoint. */
export const HTTP_PORT_PARAM = 65280;
export const PUBKY_RECORD_NAME = '_pubky';
/** TTL the pubky SDK and homeserver put on their records. */
export const DEFAULT_RECORD_TTL = 3600;

const TYPE_CODES = { A: 1, NS: 2, CNAME: 5, TXT: 16, AAAA: 28, SVCB: 64, HTTPS: 65 } as const;
const CLASS_IN = 1;
/** QR bit only, id 0: the header pkarr's builder (`Packet::new_reply(0)`) writes. */
const RESPONSE_FLAGS = 0x8000;
const HEADER_LENGTH = 12;
const MAX_POINTER_TARGET = 0x3fff;
/** Name-bearing types whose RDATA may carry compression pointers: expanded so raw bytes stand alone. */
const COMPRESSIBLE_UNKNOWN: ReadonlyMap<number, string> = new Map([
  [6, 'SOA'],
  [12, 'PTR'],
  [15, 'MX'],
  [33, 'SRV'],
]);

/** The untyped parts of dns-packet we rely on (absent from @types/dns-packet). */
interface RdataCodec {
  encode(data: unknown): Buffer;
  decode: ((buf: Buffer, offset: number) => unknown) & { bytes: number };
}
interface DnsPacketInternals {
  name: { decode: ((buf: Buffer, offset: number) => string) & { bytes: number } };
  a: RdataCodec;
  aaaa: RdataCodec;
  record(type: string): RdataCodec;
}
const wire = dnsPacket as unknown as DnsPacketInternals;

// ---------------------------------------------------------------------------------------------
// Helpers on records

/** The plain-HTTP port a homeserver advertises in its `localhost` HTTPS record, if any. */
export function svcbHttpPort(data: SvcbData): number | undefined {
  const value = data.params.get(HTTP_PORT_PARAM);
  if (value?.length !== 2) return undefined;
  return ((value[0] ?? 0) << 8) | (value[1] ?? 0);
}

/** The `_pubky` record pointing a user at their homeserver (pubky-sdk `pkdns.rs`). */
export function pubkyRecord(homeserver: PublicKey, ttl = DEFAULT_RECORD_TTL): PkarrRecord {
  return {
    name: PUBKY_RECORD_NAME,
    ttl,
    type: 'HTTPS',
    data: { priority: 0, target: homeserver.z32, params: new Map() },
  };
}

export interface HomeserverHttpsRecordOptions {
  /** ICANN host of the endpoint; the SDK maps `localhost` (and its testnet host) to plain http. */
  host?: string;
  priority?: number;
  ttl?: number;
}

/** A homeserver's apex HTTPS record for a plain-HTTP endpoint (homeserver `key_republisher.rs`). */
export function homeserverHttpsRecord(
  httpPort: number,
  options: HomeserverHttpsRecordOptions = {},
): PkarrRecord {
  assertUint(httpPort, 0xffff, 'An HTTP port');
  const port = new Uint8Array([httpPort >> 8, httpPort & 0xff]);
  return {
    name: '.',
    ttl: options.ttl ?? DEFAULT_RECORD_TTL,
    type: 'HTTPS',
    data: {
      priority: options.priority ?? 10,
      target: options.host ?? 'localhost',
      params: new Map([[HTTP_PORT_PARAM, port]]),
    },
  };
}

/** Normalises a record name to the relative form (`.` apex) used in `PkarrRecord.name`. */
export function relativeName(origin: string, name: string): string {
  const absolute = absoluteName(origin, name);
  return absolute.toLowerCase() === origin ? '.' : absolute.slice(0, -(origin.length + 1));
}

/** pkarr's `normalize_name`: relative names get `.<z32>` appended; `.`, `@` and `` are the apex. */
function absoluteName(origin: string, name: string): string {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '' || trimmed === '@') return origin;
  const last = trimmed.slice(trimmed.lastIndexOf('.') + 1);
  return last.toLowerCase() === origin ? trimmed : `${trimmed}.${origin}`;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Encodes records as the DNS packet of a signed packet for `origin`. Throws `INVALID_RECORD`. */
export function encodeDnsPacket(origin: PublicKey, records: readonly PkarrRecord[]): Uint8Array {
  if (records.length > 0xffff) throw invalid(`Too many records (${records.length}).`);
  const out = new DnsWriter();
  out.u16(0);
  out.u16(RESPONSE_FLAGS);
  out.u16(0);
  out.u16(records.length);
  out.u16(0);
  out.u16(0);
  for (const record of records) writeRecord(out, origin.z32, record);
  return out.finish();
}

function writeRecord(out: DnsWriter, origin: string, record: PkarrRecord): void {
  out.name(nameLabels(absoluteName(origin, String(record.name)), 'Record name'), true);
  out.u16(typeCodeOf(record));
  out.u16(CLASS_IN);
  assertUint(record.ttl, 0xffffffff, 'A TTL');
  out.u32(record.ttl);
  const lengthAt = out.reserveU16();
  const start = out.length;
  writeRdata(out, record);
  const rdlength = out.length - start;
  if (rdlength > 0xffff) throw invalid(`Record data of ${record.name} is too long (${rdlength} bytes).`);
  out.patchU16(lengthAt, rdlength);
}

function typeCodeOf(record: PkarrRecord): number {
  if (record.type === 'UNKNOWN') {
    assertUint(record.typeCode, 0xffff, 'A record type code');
    return record.typeCode;
  }
  // hasOwn: a type such as "toString" from untyped input must not reach Object.prototype.
  if (!Object.hasOwn(TYPE_CODES, record.type))
    throw invalid(`Unsupported record type ${String(record.type)}.`);
  return TYPE_CODES[record.type];
}

function writeRdata(out: DnsWriter, record: PkarrRecord): void {
  switch (record.type) {
    case 'A':
      if (!isIPv4(record.data)) throw invalid(`"${record.data}" is not an IPv4 address.`);
      out.bytes(wire.a.encode(record.data).subarray(2));
      return;
    case 'AAAA':
      if (!isIPv6(record.data) || record.data.includes('%')) {
        throw invalid(`"${record.data}" is not an IPv6 address.`);
      }
      out.bytes(wire.aaaa.encode(record.data).subarray(2));
      return;
    case 'CNAME':
    case 'NS':
      out.name(nameLabels(record.data, `${record.type} target`), false);
      return;
    case 'TXT':
      for (const text of record.data) {
        const bytes = Buffer.from(text, 'utf8');
        if (bytes.length > 255) throw invalid(`A TXT string has at most 255 bytes, got ${bytes.length}.`);
        out.u8(bytes.length);
        out.bytes(bytes);
      }
      return;
    case 'HTTPS':
    case 'SVCB':
      writeSvcb(out, record.data);
      return;
    case 'UNKNOWN':
      if (!(record.data instanceof Uint8Array)) throw invalid('UNKNOWN record data must be bytes.');
      out.bytes(record.data);
      return;
  }
}

function writeSvcb(out: DnsWriter, data: SvcbData): void {
  assertUint(data.priority, 0xffff, 'An SVCB priority');
  out.u16(data.priority);
  // RFC 9460 §2.2: TargetName is never compressed.
  out.name(nameLabels(data.target, 'SVCB target'), false);
  const keys = [...data.params.keys()].sort((a, b) => a - b);
  for (const key of keys) {
    assertUint(key, 0xffff, 'An SvcParamKey');
    const value = data.params.get(key) ?? new Uint8Array();
    if (value.length > 0xffff) throw invalid(`SvcParam ${key} is too long (${value.length} bytes).`);
    out.u16(key);
    out.u16(value.length);
    out.bytes(value);
  }
}

/** Splits an absolute name into labels; `.` (or empty) is the root. */
function nameLabels(name: string, what: string): Buffer[] {
  if (typeof name !== 'string') throw invalid(`${what} must be text.`);
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return [];
  const labels = trimmed.split('.').map((label) => Buffer.from(label, 'utf8'));
  let wireLength = 1;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) {
      throw invalid(`${what} "${name}" has a label of ${label.length} bytes (allowed: 1 to 63).`);
    }
    wireLength += label.length + 1;
  }
  if (wireLength > 255) throw invalid(`${what} "${name}" is too long (${wireLength} bytes, max 255).`);
  return labels;
}

/** Growable output with RFC 1035 §4.1.4 name compression (exact-case suffix match). */
class DnsWriter {
  private buf = Buffer.alloc(512);
  length = 0;
  private readonly suffixes = new Map<string, number>();

  u8(value: number): void {
    this.ensure(1);
    this.buf.writeUInt8(value, this.length);
    this.length += 1;
  }

  u16(value: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(value, this.length);
    this.length += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(value, this.length);
    this.length += 4;
  }

  bytes(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.length);
    this.length += value.length;
  }

  reserveU16(): number {
    const at = this.length;
    this.u16(0);
    return at;
  }

  patchU16(at: number, value: number): void {
    this.buf.writeUInt16BE(value, at);
  }

  name(labels: Buffer[], compress: boolean): void {
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels
        .slice(i)
        .map((label) => label.toString('hex'))
        .join('.');
      const pointer = compress ? this.suffixes.get(suffix) : undefined;
      if (pointer !== undefined) {
        this.u16(0xc000 | pointer);
        return;
      }
      if (compress && this.length <= MAX_POINTER_TARGET) this.suffixes.set(suffix, this.length);
      const label = labels[i] as Buffer;
      this.u8(label.length);
      this.bytes(label);
    }
    this.u8(0);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.buf.subarray(0, this.length));
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.length + extra));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes the answers of a signed packet's DNS packet for `origin`. Every section is checked;
 * records whose owner is not under the key are skipped (pkarr can never resolve them).
 * Throws `PkarrPacketError('MALFORMED_DNS')` and nothing else on bad bytes.
 */
export function decodeDnsPacket(origin: PublicKey, bytes: Uint8Array): PkarrRecord[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return new DnsReader(buf, origin.z32).packet();
  } catch (error) {
    if (error instanceof PkarrPacketError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw malformed(`Unreadable DNS packet: ${reason}.`);
  }
}

class DnsReader {
  private offset = HEADER_LENGTH;

  constructor(
    private readonly buf: Buffer,
    private readonly origin: string,
  ) {}

  packet(): PkarrRecord[] {
    if (this.buf.length < HEADER_LENGTH) {
      throw malformed(`A DNS packet has at least ${HEADER_LENGTH} bytes, got ${this.buf.length}.`);
    }
    const [questions, answers, authorities, additionals] = [4, 6, 8, 10].map((at) =>
      this.buf.readUInt16BE(at),
    );
    for (let i = 0; i < (questions ?? 0); i++) {
      this.name();
      this.take(4, 'question');
    }
    const records: PkarrRecord[] = [];
    for (let i = 0; i < (answers ?? 0); i++) {
      const record = this.record();
      if (record) records.push(record);
    }
    // Other sections are never resolved by pkarr, but must still parse.
    for (let i = 0; i < (authorities ?? 0) + (additionals ?? 0); i++) this.record();
    return records;
  }

  private record(): PkarrRecord | undefined {
    const owner = this.name();
    const header = this.take(10, 'record header');
    const typeCode = this.buf.readUInt16BE(header);
    const ttl = this.buf.readUInt32BE(header + 4);
    const rdlength = this.buf.readUInt16BE(header + 8);
    const start = this.take(rdlength, 'record data');
    const record = this.rdata(typeCode, start, rdlength);
    const lower = owner.toLowerCase();
    if (lower !== this.origin && !lower.endsWith(`.${this.origin}`)) return undefined;
    return { ...record, name: relativeName(this.origin, owner), ttl } as PkarrRecord;
  }

  /** Decodes RDATA; the result lacks `name` and `ttl`, which the caller adds. */
  private rdata(typeCode: number, start: number, length: number): RecordBody {
    const end = start + length;
    switch (typeCode) {
      case TYPE_CODES.A:
        this.expectLength(length, 4, 'A');
        return { type: 'A', data: [...this.buf.subarray(start, end)].join('.') };
      case TYPE_CODES.AAAA:
        this.expectLength(length, 16, 'AAAA');
        return { type: 'AAAA', data: wire.aaaa.decode(this.buf, start - 2) as string };
      case TYPE_CODES.CNAME:
      case TYPE_CODES.NS: {
        const data = this.nameAt(start, end);
        this.expectEnd(data.end, end, 'name');
        return { type: typeCode === TYPE_CODES.NS ? 'NS' : 'CNAME', data: data.name };
      }
      case TYPE_CODES.TXT: {
        const strings = this.txt(start, end);
        if (strings) return { type: 'TXT', data: strings };
        break; // not UTF-8: keep the exact bytes
      }
      case TYPE_CODES.SVCB:
      case TYPE_CODES.HTTPS:
        return { type: typeCode === TYPE_CODES.SVCB ? 'SVCB' : 'HTTPS', data: this.svcb(start, end) };
    }
    return { type: 'UNKNOWN', typeCode, data: this.standalone(typeCode, start, length) };
  }

  private txt(start: number, end: number): string[] | undefined {
    const strings: string[] = [];
    // ignoreBOM keeps a leading U+FEFF: TXT text must come back exactly as written.
    const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    for (let at = start; at < end; ) {
      const length = this.buf[at] ?? 0;
      if (at + 1 + length > end) throw malformed('A TXT string runs past its record.');
      try {
        strings.push(utf8.decode(this.buf.subarray(at + 1, at + 1 + length)));
      } catch {
        return undefined;
      }
      at += 1 + length;
    }
    return strings;
  }

  private svcb(start: number, end: number): SvcbData {
    if (end - start < 3) throw malformed('An SVCB/HTTPS record is shorter than 3 bytes.');
    const priority = this.buf.readUInt16BE(start);
    // Compression is not allowed here by RFC 9460, but simple-dns follows pointers: so do we.
    const target = this.nameAt(start + 2, end);
    const params = new Map<number, Uint8Array>();
    let previous = -1;
    for (let at = target.end; at < end; ) {
      if (at + 4 > end) throw malformed('An SvcParam header runs past its record.');
      const key = this.buf.readUInt16BE(at);
      const length = this.buf.readUInt16BE(at + 2);
      if (key <= previous) throw malformed('SvcParamKeys are not in strictly increasing order.');
      if (at + 4 + length > end) throw malformed(`SvcParam ${key} runs past its record.`);
      params.set(key, Uint8Array.from(this.buf.subarray(at + 4, at + 4 + length)));
      previous = key;
      at += 4 + length;
    }
    return { priority, target: target.name, params };
  }

  /** Raw RDATA, with compression pointers expanded for the types that may hold them. */
  private standalone(typeCode: number, start: number, length: number): Uint8Array {
    const typeName = COMPRESSIBLE_UNKNOWN.get(typeCode);
    if (!typeName) return Uint8Array.from(this.buf.subarray(start, start + length));
    const codec = wire.record(typeName);
    const data = codec.decode(this.buf, start - 2);
    if (codec.decode.bytes !== length + 2) throw malformed(`A ${typeName} record has a wrong length.`);
    return Uint8Array.from(codec.encode(data).subarray(2));
  }

  private name(): string {
    const { name, end } = this.nameAt(this.offset, this.buf.length);
    this.offset = end;
    return name;
  }

  private nameAt(start: number, limit: number): { name: string; end: number } {
    const name = wire.name.decode(this.buf, start);
    const end = start + wire.name.decode.bytes;
    if (end > limit) throw malformed('A name runs past its record.');
    return { name, end };
  }

  /** Reserves `length` bytes at the cursor and returns where they start. */
  private take(length: number, what: string): number {
    const start = this.offset;
    if (start + length > this.buf.length) throw malformed(`The DNS packet ends inside a ${what}.`);
    this.offset += length;
    return start;
  }

  private expectLength(actual: number, expected: number, type: string): void {
    if (actual !== expected) {
      throw malformed(`An ${type} record has ${actual} data bytes, expected ${expected}.`);
    }
  }

  private expectEnd(actual: number, expected: number, what: string): void {
    if (actual !== expected) throw malformed(`Record data does not end with its ${what}.`);
  }
}

// ---------------------------------------------------------------------------------------------

function assertUint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw invalid(`${what} must be an integer from 0 to ${max}, got ${String(value)}.`);
  }
}

function invalid(message: string): PkarrPacketError {
  return new PkarrPacketError('INVALID_RECORD', message);
}

function malformed(message: string): PkarrPacketError {
  return new PkarrPacketError('MALFORMED_DNS', message);
}
