import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecoveryFile, Keypair } from '../../src/identity/index.js';
import { pubkyRecord, putToRelay, SignedPacket } from '../../src/pkdns/index.js';
import { startTestnet, type Testnet } from '../../src/testnet/testnet.js';
import { runCli } from '../helpers/cli.js';
import { put, signup } from '../helpers/homeserver.js';

// restore / migrate as a user runs them: key handling, errors without stack traces, --json, dry runs.
let testnet: Testnet;
let dataDir: string;
let keypair: Keypair;
let recoveryFile: string;
const PASSPHRASE = 'pässphrase for the test';
beforeAll(async () => {
  testnet = await startTestnet({ relayPort: 0, homeserverPort: 0, homeservers: 2 });
  keypair = Keypair.random();
  await putToRelay(
    testnet.relay.url,
    SignedPacket.build(keypair, [pubkyRecord(testnet.homeservers[0]?.publicKey as never)]),
  );
  const user = await signup(testnet.homeservers[0] as never, { keypair });
  await put(testnet.homeservers[0] as never, user, '/pub/app/a.txt', 'alpha');
  await put(testnet.homeservers[0] as never, user, '/pub/app/b.txt', 'bravo');
  const dir = await mkdtemp(join(tmpdir(), 'pubky-backup-restore-cli-'));
  dataDir = join(dir, 'data');
  recoveryFile = join(dir, 'user.recovery');
  await writeFile(recoveryFile, await createRecoveryFile(keypair, PASSPHRASE));
  expect((await cli(['add', keypair.publicKey.z32])).code).toBe(0);
  expect((await cli(['sync', '--once'])).code).toBe(0);
}, 60_000);
afterAll(() => testnet.close());

const B = () => testnet.homeservers[1] as Testnet['homeserver'];
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(['--data-dir', dataDir, '--relay', testnet.relay.url, '--no-dht', ...args], env);
const restore = (extra: string[], env: Record<string, string> = {}) =>
  cli(['restore', keypair.publicKey.z32, '--to', B().url, ...extra], env);

// CLI processes on a shared 2-core machine: generous time.
describe('restore and migrate on the command line', { timeout: 120_000 }, () => {
  it('a wrong passphrase, a key of somebody else, no key at all: exit 2 with what to do, no stack trace', async () => {
    const wrong = await restore(['--recovery-file', recoveryFile], { PUBKY_BACKUP_PASSPHRASE: 'not it' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe('error: Wrong passphrase for this recovery file (or the file was altered).\n');

    const other = Keypair.random();
    const otherFile = join(dataDir, '..', 'other.key');
    await writeFile(otherFile, Buffer.from(other.secretKey()).toString('hex'));
    const mismatch = await restore(['--json', '--secret-key-file', otherFile]);
    expect(mismatch.code).toBe(2);
    expect(JSON.parse(mismatch.stdout)).toMatchObject({ ok: false, error: { code: 'KEY_MISMATCH' } });

    const none = await restore([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--recovery-file');
    const noPassphrase = await restore(['--recovery-file', recoveryFile]);
    expect(noPassphrase.code).toBe(2);
    expect(noPassphrase.stderr).toContain('PUBKY_BACKUP_PASSPHRASE');
    // A bad --from is told first, before any passphrase is asked for.
    const badSource = await restore(['--json', '--from', 'snapshto', '--recovery-file', recoveryFile]);
    expect(badSource.code).toBe(2);
    expect(JSON.parse(badSource.stdout)).toMatchObject({ ok: false, error: { code: 'BAD_SOURCE' } });
    for (const run of [wrong, mismatch, none, noPassphrase, badSource])
      expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(B().state.users.has(keypair.publicKey.z32)).toBe(false);
  });

  it('a homeserver that wants a signup token says so; with one, restore signs up and uploads; the passphrase never shows', async () => {
    B().setSignupMode('token');
    try {
      const env = { PUBKY_BACKUP_PASSPHRASE: PASSPHRASE };
      const plan = await restore(['--dry-run'], env);
      expect(plan.code).toBe(0);
      expect(plan.stdout).toContain('plan: would upload 2 of 2 files');
      const refused = await restore(['--recovery-file', recoveryFile], env);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--signup-token');
      const token = B().generateSignupToken();
      const done = await restore(['--json', '--recovery-file', recoveryFile, '--signup-token', token], env);
      expect(done.code).toBe(0);
      const summary = JSON.parse(done.stdout);
      expect(summary).toMatchObject({ ok: true, uploaded: 2, alreadyThere: 0, failed: [] });
      expect(summary.notes[0]).toContain('signed');
      for (const run of [plan, refused, done]) expect(run.stdout + run.stderr).not.toContain(PASSPHRASE);
      const again = await restore(['--recovery-file', recoveryFile], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('uploaded 0 of 2 files');
      expect(again.stdout).toContain('2 already there');
    } finally {
      B().setSignupMode('open');
    }
  });

  it('migrate --dry-run prints the plan and changes nothing', async () => {
    const before = B().state.eventsOf(keypair.publicKey.z32).length;
    const plan = await cli(['migrate', keypair.publicKey.z32, '--to', B().publicKey.z32, '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('plan: migrate to');
    expect(plan.stdout).toMatch(/1\. check/);
    expect(plan.stdout).toMatch(/4\. publish\s+publish _pubky/);
    expect(plan.stdout).toContain('nothing was changed (dry run)');
    expect(B().state.eventsOf(keypair.publicKey.z32).length).toBe(before);
    const noKey = await cli(['migrate', keypair.publicKey.z32, '--to', B().url, '--dry-run']);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--homeserver-key');
  });
});
