// A local testnet (pkarr relay + homeserver) in its own process, so the server's CPU time is not
// charged to the client being measured. Storage is a folder (small RSS even with GBs of files).
//
//   node bench/testnet-server.mjs <data dir>
//
// Prints one JSON line on stdout when ready: {"relay","homeserver","homeserverKey","pid"}; then
// serves on 127.0.0.1 until SIGTERM/SIGINT, or until the parent that forked it goes away.
import { startTestnet } from '../dist/testnet/testnet.js';

const dataDir = process.argv[2];
if (!dataDir) {
  console.error('usage: node bench/testnet-server.mjs <data dir>');
  process.exit(2);
}

const testnet = await startTestnet({ host: '127.0.0.1', relayPort: 0, homeserverPort: 0, dataDir });
process.stdout.write(
  `${JSON.stringify({
    relay: testnet.relay.url,
    homeserver: testnet.homeserver.url,
    homeserverKey: testnet.homeserver.publicKey.z32,
    pid: process.pid,
  })}\n`,
);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  // Live SSE connections can keep close() waiting: don't hang on them.
  const timer = setTimeout(() => process.exit(0), 2000);
  await testnet.close().catch(() => {});
  clearTimeout(timer);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// Forked with an IPC channel: the parent dying (even by SIGKILL) closes it.
if (process.channel) process.on('disconnect', shutdown);
