import { sendCallback } from '../../dev/tester/callback-sender';

export interface DriverTotals {
  sent: number;
  accepted: number;
  failed: number;
  /** Ids of every callback answered 2xx. */
  acceptedIds: Set<number>;
  /** Ids of every callback answered with an error status: none of them may be recorded. */
  refusedIds: Set<number>;
  /** Every answer, in order of sending: when it was sent, when it came back, and what (status 0: no answer). */
  answers: Array<{ sentAt: number; answeredAt: number; status: number }>;
}

/**
 * Posts callbacks of fresh ids at a steady pace, like the sender but with ids that never repeat,
 * so that every accepted id can be looked for in the table afterwards.
 */
export class CallbackDriver {
  readonly totals: DriverTotals = {
    sent: 0,
    accepted: 0,
    failed: 0,
    acceptedIds: new Set(),
    refusedIds: new Set(),
    answers: [],
  };
  /** Callbacks posted so far, answered or not. */
  posted = 0;
  private nextId: number;
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly callbackUrl: () => string,
    private readonly idsPerCallback: number,
    firstId = 1,
  ) {
    this.nextId = firstId;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.sendOne(), intervalMs);
  }

  async stop(): Promise<DriverTotals> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
    return this.totals;
  }

  private sendOne(): void {
    const ids = Array.from({ length: this.idsPerCallback }, () => this.nextId++);
    const sentAt = Date.now();
    this.posted += 1;
    const sending = sendCallback(this.callbackUrl(), ids).then((result) => {
      this.totals.sent += ids.length;
      this.totals.answers.push({ sentAt, answeredAt: Date.now(), status: result.status ?? 0 });
      if (result.ok) {
        this.totals.accepted += ids.length;
        for (const id of ids) this.totals.acceptedIds.add(id);
      } else {
        this.totals.failed += ids.length;
        // A callback with no answer at all (status 0) may or may not have been recorded.
        if (result.status !== undefined) for (const id of ids) this.totals.refusedIds.add(id);
      }
    });
    this.inFlight.add(sending);
    void sending.finally(() => this.inFlight.delete(sending));
  }
}
