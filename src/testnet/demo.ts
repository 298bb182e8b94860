import { createHash } from 'node:crypto';
import { signAuthToken } from '../homeserver/auth-token.js';
import { encodePathForUrl } from '../homeserver/url-path.js';
import { Keypair } from '../identity/index.js';
import { pubkyRecord, putToRelay, SignedPacket } from '../pkdns/index.js';
import type { Testnet } from './testnet.js';

export interface DemoUser {
  name: string;
  pubky: string;
  /**
   * The demo user's secret key, 64 hex characters (derived from a published seed: for trying
   * `restore`/`migrate --secret-key-file` on a testnet, never a real identity).
   */
  secretKey: string;
  files: number;
  bytes: number;
}

export interface DemoFile {
  path: string;
  body: Uint8Array;
  contentType: string;
}

const PEOPLE = [
  {
    name: 'Alice Nakamoto',
    bio: 'Writes about credible exit and owning your data.',
    posts: 6,
    blobs: [1_024, 48_000],
  },
  {
    name: 'Bob Satoshi',
    bio: 'Photographer. Posts pictures from long walks.',
    posts: 4,
    blobs: [350_000, 5_000_000],
  },
  { name: 'Carol Finney', bio: 'Tags everything. Follows everyone.', posts: 3, blobs: [12_000] },
];

/**
 * Seeds the testnet with pubky.app-style users: signs each up, publishes their `_pubky` record
 * and writes a profile, posts, tags, follows, file records and binary blobs. Keys are derived from
 * fixed seeds, so the demo pubkys are the same on every run.
 */
export async function seedDemo(testnet: Testnet): Promise<DemoUser[]> {
  const keypairs = PEOPLE.map((_, i) => demoKeypair(i));
  const users: DemoUser[] = [];
  for (const [i, person] of PEOPLE.entries()) {
    const keypair = keypairs[i] as Keypair;
    const others = keypairs.filter((k) => k !== keypair).map((k) => k.publicKey.z32);
    const files = demoFiles(keypair.publicKey.z32, person, others, i);
    await publishUser(testnet, keypair, files);
    users.push({
      name: person.name,
      pubky: keypair.publicKey.z32,
      secretKey: Buffer.from(keypair.secretKey()).toString('hex'),
      files: files.length,
      bytes: files.reduce((n, f) => n + f.body.length, 0),
    });
  }
  return users;
}

async function publishUser(testnet: Testnet, keypair: Keypair, files: DemoFile[]): Promise<void> {
  const { homeserver, relay } = testnet;
  await putToRelay(relay.url, SignedPacket.build(keypair, [pubkyRecord(homeserver.publicKey)]));
  const z32 = keypair.publicKey.z32;
  const cookie = await demoSession(testnet, keypair);
  for (const file of files) await demoPut(testnet, z32, cookie, file);
}

/** The demo user number `index` (0 = Alice): keys derive from fixed seeds. */
export function demoKeypair(index: number): Keypair {
  return Keypair.fromSecret(seedBytes(`pubky-backup demo user ${index}`, 32));
}

/** Signs a demo user in (or up, the first time); returns the session cookie. */
export async function demoSession(testnet: Testnet, keypair: Keypair): Promise<string> {
  const { homeserver } = testnet;
  const route = homeserver.state.users.has(keypair.publicKey.z32) ? '/session' : '/signup';
  const response = await fetch(`${homeserver.url}${route}`, { method: 'POST', body: signAuthToken(keypair) });
  if (!response.ok) throw new Error(`demo ${route} failed: ${response.status} ${await response.text()}`);
  return (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

export async function demoPut(testnet: Testnet, user: string, cookie: string, file: DemoFile): Promise<void> {
  const url = `${testnet.homeserver.url}${encodePathForUrl(file.path)}`;
  const response = await fetch(url, {
    method: 'PUT',
    headers: { 'pubky-host': user, cookie, 'content-type': file.contentType },
    body: file.body,
  });
  if (response.status !== 201) throw new Error(`demo PUT ${file.path} failed: ${response.status}`);
}

function demoFiles(
  z32: string,
  person: (typeof PEOPLE)[number],
  others: string[],
  userIndex: number,
): DemoFile[] {
  const json = (path: string, value: unknown): DemoFile => ({
    path,
    body: new TextEncoder().encode(JSON.stringify(value)),
    contentType: 'application/json',
  });
  const base = Date.UTC(2026, 10, 1) * 1000 + userIndex * 1_000_000_000;
  const files: DemoFile[] = [
    json('/pub/pubky.app/profile.json', {
      name: person.name,
      bio: person.bio,
      image: `pubky://${z32}/pub/pubky.app/files/${timestampId(base)}`,
      links: [{ title: 'Website', url: 'https://example.org' }],
      status: 'Backing up',
    }),
  ];
  for (let p = 0; p < person.posts; p++) {
    const id = timestampId(base + (p + 1) * 60_000_000);
    files.push(
      json(`/pub/pubky.app/posts/${id}`, {
        content: `Post ${p + 1} by ${person.name}: everything I publish here is mine to keep.`,
        kind: 'short',
        parent: null,
        embed: null,
        attachments: null,
      }),
    );
    files.push(
      json(`/pub/pubky.app/tags/${tagId(z32, id)}`, {
        uri: `pubky://${z32}/pub/pubky.app/posts/${id}`,
        label: ['backup', 'pubky', 'exit'][p % 3],
        created_at: Math.floor((base + p) / 1000),
      }),
    );
  }
  for (const other of others) {
    files.push(json(`/pub/pubky.app/follows/${other}`, { created_at: Math.floor(base / 1000) }));
  }
  for (const [b, size] of person.blobs.entries()) {
    const id = timestampId(base + b);
    const blob = seedBytes(`${z32} blob ${b}`, size);
    // A JPEG's start-of-image marker, so the homeserver detects the type as it would for a photo.
    blob.set([0xff, 0xd8, 0xff, 0xe0]);
    files.push({ path: `/pub/pubky.app/blobs/${id}`, body: blob, contentType: 'image/jpeg' });
    files.push(
      json(`/pub/pubky.app/files/${id}`, {
        name: `photo-${b + 1}.jpg`,
        created_at: Math.floor(base / 1000),
        src: `pubky://${z32}/pub/pubky.app/blobs/${id}`,
        content_type: 'image/jpeg',
        size,
      }),
    );
  }
  files.push({
    path: '/pub/notes/naïve café — read me.txt',
    body: new TextEncoder().encode(`Names with spaces and accents survive a backup too.\n— ${person.name}\n`),
    contentType: 'text/plain',
  });
  return files;
}

/** pubky.app ids: 13 Crockford base32 characters of a microsecond timestamp. */
function timestampId(micros: number): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let value = BigInt(micros);
  let id = '';
  for (let i = 0; i < 13; i++) {
    id = alphabet[Number(value & 31n)] + id;
    value >>= 5n;
  }
  return id;
}

function tagId(z32: string, postId: string): string {
  return createHash('sha256').update(`${z32}${postId}`).digest('hex').slice(0, 32).toUpperCase();
}

/** Deterministic pseudo-random bytes (SHA-256 in counter mode): the demo is the same every run. */
function seedBytes(seed: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0, counter = 0; at < size; counter++) {
    const block = createHash('sha256').update(`${seed}:${counter}`).digest();
    out.set(block.subarray(0, Math.min(block.length, size - at)), at);
    at += block.length;
  }
  return out;
}
