import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { callbackWorkflowId } from '../../src/callbacks/workflow-start';
import { objectWorkflowId, type CallbackInput, type CheckResult } from '../../src/workflows';
import { eventually } from '../../dev/support/wait';
import { clockTime, FaultHarness } from '../support/fault-harness';
import { answer, startStubObjectService, type StubObjectService } from '../support/stub-object-service';

// Debian's libfaketime, preloaded into a part, moves its wall clock (Node's Date.now() and the
// Temporal core's SystemTime) and leaves the monotonic clock that both run their timers on.
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/** docs/contract.md: the APIs', the workers' and the database's clocks may differ by this much. */
const SKEW_MS = 2_000;
const TTL_SECONDS = 6;
/** The cleanup schedule's start and delete, past its interval. */
const CLEANUP_LATENESS_MS = 2_000;

/** The first status request of an object coming online finds it offline, and takes this long to say so. */
const OFFLINE_ANSWER_MS = 500;
/** When such an object is sighted again after its first request arrived: while that check runs, and after it answered. */
const SIGHTED_AGAIN_AFTER_MS = [200, 1_200];
const LOAD_CALLBACKS = 20;
const LOAD_IDS_PER_CALLBACK = 5;
const LOAD_INTERVAL_MS = 200;

const signedSeconds = (ms: number): string => `${ms < 0 ? '-' : '+'}${Math.abs(ms) / 1000}`;

/** Runs a part with its wall clock `offsetMs` off this machine's, which the database and Temporal keep. */
function wallClockOffBy(offsetMs: number): NodeJS.ProcessEnv {
  if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: apt-get install faketime`);
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: `${signedSeconds(offsetMs)}s`, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

interface Offsets {
  apiMs: number;
  workerMs: number;
}

interface Posted {
  ids: number[];
  key: string;
  status: number;
  /** This machine's clock when the request was sent and when its answer came. */
  sentAt: number;
  answeredAt: number;
}

/** A callback under an Idempotency-Key of its own, so that its workflow, and the receipt time the API stamped, can be read back. */
async function post(callbackUrl: string, ids: number[]): Promise<Posted> {
  const key = randomUUID();
  const sentAt = Date.now();
  const response = await fetch(callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ object_ids: ids }),
    signal: AbortSignal.timeout(5_000),
  });
  await response.body?.cancel();
  return { ids, key, status: response.status, sentAt, answeredAt: Date.now() };
}

/**
 * The system with an object service that answers every object online after 50 ms, except that it
 * finds an object `comingOnline` offline on its first request. `runParts` starts the API and the
 * worker with their wall clocks set apart from this machine's, for the enclosing `describe`.
 */
function scriptedSystem() {
  const firstRequestArrived = new Map<number, (at: number) => void>();
  let harness: FaultHarness | undefined;
  let objects: StubObjectService | undefined;
  let connection: Connection | undefined;
  before(async () => {
    objects = await startStubObjectService((id, attempt, response) => {
      const arrived = firstRequestArrived.get(id);
      if (arrived && attempt === 1) {
        arrived(Date.now());
        setTimeout(() => answer(response, 200, { id, online: false }), OFFLINE_ANSWER_MS);
      } else setTimeout(() => answer(response, 200, { id, online: true }), 50);
    });
    // The harness's own object service stays unused: the parts ask the scripted one.
    harness = await FaultHarness.start({ latencyMs: [50, 50] });
    connection = await Connection.connect({ address: harness.server.address });
  });
  after(async () => {
    await connection?.close();
    await harness?.stop();
    await objects?.close();
  });

  const running = () => {
    if (!harness || !objects || !connection) throw new Error('the system is not running');
    return { harness, objects, temporal: new TemporalClient({ connection }) };
  };
  const firstPayload = (payloads: Payload[] | null | undefined): unknown =>
    defaultPayloadConverter.fromPayload(payloads?.[0] as Payload);
  return {
    running,
    runParts(offsets: Offsets): void {
      before(async () => {
        const { harness, objects } = running();
        const settings = { OBJECT_SERVICE_URL: objects.url, OBJECT_TTL_SECONDS: String(TTL_SECONDS) };
        await Promise.all([
          harness.startApi(0, { ...settings, ...wallClockOffBy(offsets.apiMs) }),
          harness.startWorker(0, { ...settings, ...wallClockOffBy(offsets.workerMs) }),
        ]);
      });
      // Gracefully: a worker killed outright would hold its cleanup workflow's next task for seconds.
      after(() =>
        Promise.all(
          [harness?.api, harness?.worker].map((part) => {
            part?.kill('SIGTERM');
            return part?.exited;
          }),
        ),
      );
    },
    /** When `objectId`'s first status request arrives (this machine's clock); it finds the object offline. */
    comingOnline(objectId: number): Promise<number> {
      return new Promise((resolve) => firstRequestArrived.set(objectId, resolve));
    },
    /** The receipt time the API stamped on a callback, as its workflow's input holds it. */
    async receivedAt({ key }: Posted): Promise<number> {
      const history = await running().temporal.workflow.getHandle(callbackWorkflowId(key)).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      return (firstPayload(started?.input?.payloads) as CallbackInput).receivedAtMs;
    },
    /** When each of an object's status requests went out, by the worker's clock, as its checks returned it. */
    async askedAt(objectId: number): Promise<number[]> {
      const history = await running().temporal.workflow.getHandle(objectWorkflowId(objectId)).fetchHistory();
      return (history.events ?? []).flatMap((event) => {
        const result = event.markerRecordedEventAttributes?.details?.result;
        const askedAtMs = result && (firstPayload(result.payloads) as Partial<CheckResult>).askedAtMs;
        return askedAtMs === undefined ? [] : [askedAtMs];
      });
    },
  };
}

describe("the parts' clocks as far apart as the contract allows", () => {
  const system = scriptedSystem();

  // Each setting with ids of its own: the objects of one are not the other's.
  for (const { firstId, ...offsets } of [
    { apiMs: 0, workerMs: SKEW_MS, firstId: 10_000 },
    { apiMs: -SKEW_MS, workerMs: 0, firstId: 20_000 },
  ]) {
    describe(`the worker's clock at ${signedSeconds(offsets.workerMs)} s and the API's at ${signedSeconds(offsets.apiMs)} s of the database's and Temporal's`, () => {
      system.runParts(offsets);

      it(
        'an object found offline, sighted again just after that request went out and online by then, gets its row',
        { timeout: 60_000 },
        async (t) => {
          const { harness, objects } = system.running();
          const ids = SIGHTED_AGAIN_AFTER_MS.map((_, index) => firstId + index);
          const firstRequests = ids.map((id) => system.comingOnline(id));
          const first = await post(harness.callbackUrl, ids);
          const again = await Promise.all(
            ids.map(async (id, index) => {
              const arrivedAt = await (firstRequests[index] as Promise<number>);
              await sleep(Math.max(0, arrivedAt + (SIGHTED_AGAIN_AFTER_MS[index] as number) - Date.now()));
              return { arrivedAt, posted: await post(harness.callbackUrl, [id]) };
            }),
          );
          const receivedAgainAt = await Promise.all(again.map(({ posted }) => system.receivedAt(posted)));
          const rowsAt = async () => {
            const lastSeen = await harness.lastSeen(ids);
            return ids.every((id, index) => lastSeen.get(id) === receivedAgainAt[index]) ? lastSeen : undefined;
          };
          const lastSeen = await eventually(rowsAt, 'a row at each second sighting', 10_000).catch(() =>
            harness.lastSeen(ids),
          );

          const asked = await Promise.all(ids.map((id) => system.askedAt(id)));
          const timelines = await harness.objectTimelines(ids);
          for (const [index, id] of ids.entries()) {
            t.diagnostic(
              `object ${id}: first request arrived ${clockTime(again[index]?.arrivedAt)}, asked at by the worker's clock ` +
                `${asked[index]?.map(clockTime).join(', ')}; sighted again at ${clockTime(again[index]?.posted.sentAt)}, ` +
                `stamped ${clockTime(receivedAgainAt[index])}; row ${clockTime(lastSeen.get(id))}; ${timelines.get(id)}`,
            );
          }
          assert.deepEqual(
            [first, ...again.map(({ posted }) => posted)].map(({ status }) => status),
            [202, 202, 202],
          );
          for (const [index, id] of ids.entries()) {
            const { arrivedAt, posted } = again[index] as (typeof again)[number];
            const receivedAt = receivedAgainAt[index] as number;
            const firstAskedAt = asked[index]?.[0] as number;
            // Each part runs on the clock set for it, to the millisecond: the same kernel clock, shifted.
            assert.ok(
              first.sentAt + offsets.workerMs <= firstAskedAt && firstAskedAt <= arrivedAt + offsets.workerMs,
              `object ${id}: the worker stamped its first request by its own clock`,
            );
            assert.ok(
              posted.sentAt + offsets.apiMs <= receivedAt && receivedAt <= posted.answeredAt + offsets.apiMs,
              `object ${id}: the API stamped the second sighting by its own clock`,
            );
            // Sent after the offline answer's request went out, yet stamped no later by the skewed clocks.
            assert.ok(
              arrivedAt < posted.sentAt && receivedAt <= firstAskedAt,
              `object ${id}: the stamps look answered`,
            );
            assert.equal(lastSeen.get(id), receivedAt, `object ${id}: the row carries the second sighting`);
            assert.equal(objects.attempts.get(id), 2, `object ${id}: the second sighting got a request of its own`);
          }
        },
      );

      it('a steady load of online objects: each row carries the receipt time the API stamped, and lapses a TTL after it', async (t) => {
        const { harness } = system.running();
        const cleanupIntervalMs = Number(harness.env().CLEANUP_INTERVAL_SECONDS) * 1_000;
        const ttlMs = TTL_SECONDS * 1_000;
        const ids = Array.from(
          { length: LOAD_CALLBACKS * LOAD_IDS_PER_CALLBACK },
          (_, index) => firstId + 1_000 + index,
        );
        // Per id, by this machine's clock (the database's): when its row was last seen there, and
        // when it was first found gone.
        const rows = new Map<number, { lastSeen: number; lastAt: number; goneAt?: number }>();
        let watching = true;
        const watch = (async () => {
          while (watching) {
            const lookedAt = Date.now();
            const lastSeen = await harness.lastSeen(ids);
            const answeredAt = Date.now();
            for (const [id, seen] of lastSeen) rows.set(id, { ...rows.get(id), lastSeen: seen, lastAt: lookedAt });
            for (const row of rows.values()) if (row.lastAt < lookedAt) row.goneAt ??= answeredAt;
            await sleep(100);
          }
        })();

        const sending: Array<Promise<Posted>> = [];
        const startedAt = Date.now();
        for (let index = 0; index < LOAD_CALLBACKS; index += 1) {
          const start = index * LOAD_IDS_PER_CALLBACK;
          sending.push(post(harness.callbackUrl, ids.slice(start, start + LOAD_IDS_PER_CALLBACK)));
          await sleep(Math.max(0, startedAt + (index + 1) * LOAD_INTERVAL_MS - Date.now()));
        }
        const posted = await Promise.all(sending);
        const receivedAt = await Promise.all(posted.map((callback) => system.receivedAt(callback)));
        // The database's clock is this machine's: by then every row must be gone, and a look more says so.
        const lastLapseBy = Math.max(...receivedAt) + ttlMs + cleanupIntervalMs + CLEANUP_LATENESS_MS;
        await eventually(
          async () => (ids.every((id) => rows.get(id)?.goneAt !== undefined) ? true : undefined),
          'every row to lapse',
          lastLapseBy + 1_000 - Date.now(),
        ).catch(() => undefined);
        watching = false;
        await watch;

        const rowsOf = posted.flatMap((callback, index) =>
          callback.ids.map((id) => ({ id, callback, receivedAt: receivedAt[index] as number, row: rows.get(id) })),
        );
        const lapsed = rowsOf.flatMap(({ row }) => (row?.goneAt === undefined ? [] : [row.goneAt - row.lastSeen]));
        t.diagnostic(
          `${posted.length} callbacks of ${LOAD_IDS_PER_CALLBACK} ids; ${rows.size} of ${ids.length} ids got a row, ` +
            `${lapsed.length} lapsed, found gone ${Math.min(...lapsed)} to ${Math.max(...lapsed)} ms after their receipt times`,
        );
        assert.ok(
          posted.every(({ status }) => status === 202),
          'every callback answered 202',
        );
        for (const { id, callback, receivedAt, row } of rowsOf) {
          assert.ok(
            callback.sentAt + offsets.apiMs <= receivedAt && receivedAt <= callback.answeredAt + offsets.apiMs,
            `object ${id}: the API stamped its callback by its own clock`,
          );
          assert.ok(row, `object ${id} got its row`);
          assert.equal(row.lastSeen, receivedAt, `object ${id}: the row carries the receipt time the API stamped`);
          // The cleanup deletes by the database's clock, which is this machine's.
          assert.ok(
            row.goneAt !== undefined && row.goneAt >= row.lastSeen + ttlMs,
            `object ${id}: not gone before its TTL`,
          );
          assert.ok(
            row.lastAt < row.lastSeen + ttlMs + cleanupIntervalMs + CLEANUP_LATENESS_MS,
            `object ${id}: gone within a cleanup interval of its TTL (last there ${row.lastAt - row.lastSeen} ms after its receipt time)`,
          );
        }
      });
    });
  }
});
