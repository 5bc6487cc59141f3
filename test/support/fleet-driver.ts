import { sendCallback } from '../../dev/tester/callback-sender';

/**
 * Posts callbacks of random ids drawn from a fixed fleet, as the upstream sender does, so ids
 * repeat across callbacks. Remembers, per id, when the newest accepted callback carrying it was
 * sent: its receipt time is no earlier, so a row at least that new is the newest sighting's.
 */
export class FleetCallbackDriver {
  /** Per accepted id, when the newest accepted callback that carried it was sent (epoch ms). */
  readonly newestAcceptedSentAt = new Map<number, number>();
  /** Per accepted id, when the last accepted callback that carried it was answered: no receipt of it is later. */
  readonly lastAcceptedAnsweredAt = new Map<number, number>();
  /** Ids of callbacks answered with an error status. */
  readonly refusedIds = new Set<number>();
  callbacks = { accepted: 0, refused: 0, unanswered: 0 };
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly callbackUrl: () => string,
    private readonly fleet: readonly number[],
  ) {}

  /** Sends one callback of these ids and records its answer. */
  async send(objectIds: number[], timeoutMs = 1_000): Promise<boolean> {
    const sentAt = Date.now();
    const result = await sendCallback(this.callbackUrl(), objectIds, timeoutMs);
    const answeredAt = Date.now();
    if (result.ok) {
      this.callbacks.accepted += 1;
      for (const id of objectIds) {
        this.newestAcceptedSentAt.set(id, Math.max(sentAt, this.newestAcceptedSentAt.get(id) ?? 0));
        this.lastAcceptedAnsweredAt.set(id, Math.max(answeredAt, this.lastAcceptedAnsweredAt.get(id) ?? 0));
      }
    } else if (result.status === undefined) {
      // No answer at all: the callback may or may not have been recorded.
      this.callbacks.unanswered += 1;
    } else {
      this.callbacks.refused += 1;
      for (const id of objectIds) this.refusedIds.add(id);
    }
    return result.ok;
  }

  /** Every `intervalMs`, a callback of `idsPerCallback` distinct random ids of the fleet. */
  start(intervalMs: number, idsPerCallback: number): void {
    this.timer = setInterval(() => {
      const ids = new Set<number>();
      while (ids.size < Math.min(idsPerCallback, this.fleet.length)) {
        ids.add(this.fleet[Math.floor(Math.random() * this.fleet.length)] as number);
      }
      const sending = this.send([...ids]).then(() => undefined);
      this.inFlight.add(sending);
      void sending.finally(() => this.inFlight.delete(sending));
    }, intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
  }

  /** Ids only ever carried by refused callbacks: none of them may have a row. */
  onlyRefusedIds(): Set<number> {
    return new Set([...this.refusedIds].filter((id) => !this.newestAcceptedSentAt.has(id)));
  }
}
