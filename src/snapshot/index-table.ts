import type { JournalReader } from '../store/index.js';

/** What the index vouches for: size and BLAKE3 (base64) of a path. */
export interface Vouched {
  size: number;
  blake3: string;
}

const HASH_BYTES = 32;

/**
 * The index's size and BLAKE3 per path in about 60 bytes per file, for snapshots of very large
 * backups (a `FileIndex` holds ~300 bytes of objects per file). Entries live in dense typed arrays
 * (two independent 32-bit hashes of the path, the size, the BLAKE3 as 32 raw bytes); an
 * open-addressing table of entry numbers finds them. Two paths would be confused only if both
 * 32-bit hashes collided (about 1 in 10^19 per pair). A BLAKE3 that is not canonical base64 is
 * kept aside as text.
 */
export class IndexTable {
  private slots = new Int32Array(1024).fill(-1);
  private entries = 0;
  private live = 0;
  private keyA = new Int32Array(512);
  private keyB = new Int32Array(512);
  private sizes = new Float64Array(512);
  private alive = new Uint8Array(512);
  private hashes = Buffer.alloc(512 * HASH_BYTES);
  private readonly odd = new Map<string, string>();

  /** Replays an index journal (see `openJournal`) into a table. */
  static async load(journal: JournalReader): Promise<IndexTable> {
    const table = new IndexTable();
    for await (const change of journal.changes()) {
      if ('set' in change) table.set(change.set.path, change.set.size, change.set.blake3);
      else table.delete(change.del);
    }
    return table;
  }

  /** Paths the table vouches for. */
  get size(): number {
    return this.live;
  }

  set(path: string, size: number, blake3: string): void {
    const a = hashA(path);
    const b = hashB(path);
    let id = this.find(a, b);
    if (id === -1) {
      if ((this.entries + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
      if (this.entries === this.keyA.length) this.growEntries();
      id = this.entries++;
      this.keyA[id] = a;
      this.keyB[id] = b;
      this.insertSlot(id);
    }
    if (!this.alive[id]) this.live++;
    this.alive[id] = 1;
    this.sizes[id] = size;
    const at = id * HASH_BYTES;
    const written = this.hashes.write(blake3, at, HASH_BYTES, 'base64');
    const canonical =
      written === HASH_BYTES && this.hashes.toString('base64', at, at + HASH_BYTES) === blake3;
    if (canonical) this.odd.delete(path);
    else this.odd.set(path, blake3);
  }

  delete(path: string): void {
    const id = this.find(hashA(path), hashB(path));
    if (id === -1 || !this.alive[id]) return;
    this.alive[id] = 0;
    this.live--;
    this.odd.delete(path);
  }

  get(path: string): Vouched | undefined {
    const id = this.find(hashA(path), hashB(path));
    if (id === -1 || !this.alive[id]) return undefined;
    const at = id * HASH_BYTES;
    const blake3 = this.odd.get(path) ?? this.hashes.toString('base64', at, at + HASH_BYTES);
    return { size: this.sizes[id] as number, blake3 };
  }

  /** The entry with these keys, or -1. */
  private find(a: number, b: number): number {
    const mask = this.slots.length - 1;
    for (let slot = (a ^ b) & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot] as number;
      if (id === -1) return -1;
      if (this.keyA[id] === a && this.keyB[id] === b) return id;
    }
  }

  private insertSlot(id: number): void {
    const mask = this.slots.length - 1;
    let slot = ((this.keyA[id] as number) ^ (this.keyB[id] as number)) & mask;
    while (this.slots[slot] !== -1) slot = (slot + 1) & mask;
    this.slots[slot] = id;
  }

  private rehash(capacity: number): void {
    this.slots = new Int32Array(capacity).fill(-1);
    for (let id = 0; id < this.entries; id++) this.insertSlot(id);
  }

  private growEntries(): void {
    const n = this.keyA.length * 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(n);
      next.set(old);
      return next;
    };
    this.keyA = grow(this.keyA, (k) => new Int32Array(k));
    this.keyB = grow(this.keyB, (k) => new Int32Array(k));
    this.sizes = grow(this.sizes, (k) => new Float64Array(k));
    this.alive = grow(this.alive, (k) => new Uint8Array(k));
    const hashes = Buffer.alloc(n * HASH_BYTES);
    this.hashes.copy(hashes);
    this.hashes = hashes;
  }
}

/** FNV-1a over UTF-16 code units. */
function hashA(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** A multiply-rotate hash with another seed and mixing (murmur3-like), finalised. */
function hashB(text: string): number {
  let h = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
