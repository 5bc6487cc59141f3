/**
 * The newest sighting of each object that this worker's hand-outs have registered, so that a
 * check answers for every sighting received before its status request started, not only for the
 * one its workflow asked about (docs/contract.md: one check that starts after several sightings
 * were received answers for all of them).
 *
 * Why it matters: a sighting is signalled to its object's workflow, and a signal that arrives
 * while the workflow's previous check runs reaches it only once that check has ended, and then
 * costs one more check. A check that already answered for it, because the worker had heard of
 * it when the check's request started, saves that request and writes the newer `last_seen`
 * sooner.
 *
 * Why it loses nothing: this is memory and best effort. Every sighting is still signalled,
 * durably. A check reports the newest receipt time it answered for, and the workflow takes a
 * signalled sighting no newer than that as checked; when the worker dies, or the check runs on
 * another worker than the hand-out, the workflow checks the signalled sighting as it always did.
 */
export class NewestSightings {
  /** Per id, the newest receipt time registered here, forgotten once older than the TTL. */
  private readonly newest = new Map<number, number>();
  private lastForgetAtMs = 0;

  constructor(private readonly ttlMs: number) {}

  /**
   * The newest receipt time a check of `objectId` starting now answers for: its own sighting's,
   * or that of a newer sighting this worker has heard of, which was received before now.
   */
  answersFor(objectId: number, receivedAtMs: number): number {
    return Math.max(receivedAtMs, this.newest.get(objectId) ?? -Infinity);
  }

  /** A sighting a hand-out registered on this worker. */
  sighted(objectId: number, receivedAtMs: number): void {
    this.forgetExpired();
    this.newest.set(objectId, this.answersFor(objectId, receivedAtMs));
  }

  /** At most once a second: a sighting older than the TTL is not written by any check. */
  private forgetExpired(now = Date.now()): void {
    if (now - this.lastForgetAtMs < 1_000) return;
    this.lastForgetAtMs = now;
    for (const [objectId, receivedAtMs] of this.newest) {
      if (receivedAtMs + this.ttlMs <= now) this.newest.delete(objectId);
    }
  }
}
