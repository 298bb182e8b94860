import type { PublicKey } from '../identity/index.js';
import { MAX_FUTURE_SKEW_MS } from './defaults.js';
import { PkarrPacketError } from './errors.js';
import type { SignedPacket } from './signed-packet.js';
import type { PacketSource } from './sources.js';

/** What one source said, for the "sources tried" part of errors and `resolve` output. */
export interface SourceAttempt {
  source: string;
  kind: 'relay' | 'dht';
  outcome: 'packet' | 'none' | 'rejected' | 'failed' | 'timeout';
  detail?: string;
}

export interface LookupResult {
  /** The newest valid packet any source gave, if one did. */
  packet?: SignedPacket;
  /** The source that gave `packet`. */
  from?: PacketSource;
  attempts: SourceAttempt[];
}

export interface LookupOptions {
  timeoutMs: number;
  /** Packets older than this one are refused (never go back in time). */
  notOlderThan?: SignedPacket;
  nowMs?: number;
}

/**
 * Asks every source at once and keeps the newest valid packet. It ends when every source has
 * answered, or when the relays have answered with a packet (the DHT is slow and only a fallback),
 * or at the deadline — so no single source can stall it.
 */
export async function lookupPacket(
  publicKey: PublicKey,
  sources: readonly PacketSource[],
  options: LookupOptions,
): Promise<LookupResult> {
  const controller = new AbortController();
  const attempts = new Map<PacketSource, SourceAttempt>();
  let best: { packet: SignedPacket; from: PacketSource } | undefined;

  const settle = (source: PacketSource, attempt: Omit<SourceAttempt, 'source' | 'kind'>) => {
    if (!attempts.has(source)) attempts.set(source, { source: source.name, kind: source.kind, ...attempt });
  };
  const ask = async (source: PacketSource) => {
    try {
      const packet = await source.get(publicKey, controller.signal);
      if (!packet) return settle(source, { outcome: 'none' });
      const problem = rejectReason(packet, options);
      if (problem) return settle(source, { outcome: 'rejected', detail: problem });
      if (!best || packet.moreRecentThan(best.packet)) best = { packet, from: source };
      settle(source, { outcome: 'packet' });
    } catch (error) {
      if (error instanceof PkarrPacketError)
        return settle(source, { outcome: 'rejected', detail: error.message });
      const timedOut = controller.signal.aborted || (error as Error).name === 'TimeoutError';
      settle(source, { outcome: timedOut ? 'timeout' : 'failed', detail: (error as Error).message });
    }
  };

  const asked = sources.map((source) => ({ source, answer: ask(source) }));
  const all = Promise.all(asked.map((a) => a.answer));
  const relayAnswers = asked.filter((a) => a.source.kind === 'relay').map((a) => a.answer);
  const relaysWithPacket = Promise.all(relayAnswers).then(() => {
    if (!best || relayAnswers.length === 0) return new Promise<void>(() => {});
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, options.timeoutMs);
  });
  await Promise.race([all, relaysWithPacket, deadline]);
  clearTimeout(timer);
  controller.abort();
  for (const source of sources) settle(source, { outcome: 'timeout', detail: 'no answer in time' });
  return {
    packet: best?.packet,
    from: best?.from,
    attempts: sources.map((s) => attempts.get(s) as SourceAttempt),
  };
}

function rejectReason(packet: SignedPacket, options: LookupOptions): string | undefined {
  const now = options.nowMs ?? Date.now();
  if (Number(packet.timestampMicros / 1000n) > now + MAX_FUTURE_SKEW_MS) {
    return `timestamp ${new Date(Number(packet.timestampMicros / 1000n)).toISOString()} is in the future`;
  }
  const known = options.notOlderThan;
  if (known && !packet.sameAs(known) && !packet.moreRecentThan(known)) {
    return 'older than the packet already known';
  }
  return undefined;
}
