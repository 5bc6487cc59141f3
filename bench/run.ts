import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { findTemporalCli } from '../dev/embedded/temporal-dev-server';
import { sendCallback } from '../dev/tester/callback-sender';
import { startFakeObjectService } from '../dev/tester/object-service';
import { type RunningEngineFloor, EngineFloorSystem } from './engine-floor/system';
import { cloudActionsFromHistories } from './cloud-actions';
import { fleetLoad } from './fleet';
import { formatCostReport } from './cost-report';
import { formatFleetReport } from './fleet-report';
import { closedLoop, endToEnd, freshIds, IDS_PER_CALLBACK, postAll, realistic, summarizeAcks } from './load';
import { ackWhileTemporalIsDown } from './outbox';
import { ProcessMeter, round, waitForQuietMachine, type Usage } from './processes';
import { formatReport } from './report';
import { requestsBetween } from './server-requests';
import { quantilesBetween } from './worker-histogram';
import { ADMIN_URL } from '../dev/support/database';
import {
  BaselineSystem,
  brokerVersion,
  MAX_CONCURRENT_CHECKS,
  ProjectSystem,
  type RunningStack,
  type RunningSystem,
  type SystemUnderTest,
} from './systems';

/**
 * `npm run bench`: every scenario against this project and the queue-based baseline, and the
 * throughput scenario also against the engine floor (the smallest per-id Temporal design on the
 * same dev server, with 4 and with 20 senders); one fresh stack per scenario, the systems taking
 * turns so that a change in background load on the machine hits them alike. BENCH_QUICK=1 runs
 * short phases; BENCH_SCENARIOS=a,b and BENCH_SYSTEMS=project,baseline,engine-floor pick some
 * (`engine-floor` picks both floor variants, `engine-floor-4` one of them).
 */
const QUICK = process.env.BENCH_QUICK === '1';
const settings = {
  quick: QUICK,
  ackOneSenderCallbacks: QUICK ? 10 : 20,
  ackConcurrentSenders: 20,
  ackCallbacksPerConcurrentSender: QUICK ? 2 : 4,
  ackClientTimeoutMs: 10_000,
  /** The ids of the one callback of `ack-10000`: the most a callback may carry. */
  largeCallbackIds: 10_000,
  endToEndIds: QUICK ? 2_000 : 10_000,
  endToEndIdsPerCallback: 20,
  endToEndSenders: 4,
  endToEndTimeoutS: QUICK ? 45 : 90,
  /**
   * The engine floor's clients, each sending its next signal-with-start once the last is answered:
   * one floor run for each count. 20 starve the dev server's dispatch on this machine, 4 leave it
   * time; the report compares the project with the faster.
   */
  engineFloorSenders: [4, 20],
  /**
   * `ack-outbox`: after the restart, how long to wait for the outbox to drain, then for the rows
   * (BENCH_OUTBOX_ROWS_TIMEOUT_S: longer, to see every row; they come at the end-to-end rate).
   */
  outboxDrainTimeoutS: 60,
  outboxRowsTimeoutS: Number(process.env.BENCH_OUTBOX_ROWS_TIMEOUT_S ?? (QUICK ? 90 : 180)),
  /** Multiples of the tester's pace (one callback every 5 s). */
  realisticRates: [1, 10, 50],
  realisticSeconds: QUICK ? 20 : 120,
  /** Longer than the slowest upstream answer, so the last sightings' rows are seen. */
  realisticDrainS: 8,
  maxConcurrentChecks: MAX_CONCURRENT_CHECKS,
  /**
   * The fleet scenarios: callbacks of 1 to 200 random ids of a fleet, at rising rates per
   * second (BENCH_FLEET_RATES=1,2,4 picks others), each rate for `fleetSeconds`.
   */
  fleetSizes: (process.env.BENCH_FLEET_SIZES ?? '400,2000').split(',').map(Number),
  fleetRates: (process.env.BENCH_FLEET_RATES ?? '1,2,4,8').split(',').map(Number),
  fleetSeconds: Number(process.env.BENCH_FLEET_SECONDS ?? (QUICK ? 30 : 55)),
  /** The machine is shared: before each measurement, wait up to this long for it to go idle. */
  quietWaitS: Number(process.env.BENCH_QUIET_WAIT_S ?? 5),
};

const isOnline = (id: number) => id % 2 === 0;

interface ScenarioResult {
  /** Ids in accepted callbacks: the unit of the per-1,000-ids resource figures. */
  ids: number;
  [key: string]: unknown;
}

interface Scenario {
  name: string;
  /** The project's OBJECT_TTL_SECONDS; unset: an hour, so that nothing expires while the bench waits for it. */
  objectTtlSeconds?: number;
  /** Started so that the scenario can crash parts and cut the database (the project only). */
  faults?: boolean;
  /** The systems it has a meaning for; unset: both. */
  systems?: ReadonlyArray<SystemUnderTest['name']>;
  /** `tester`: 300 ms to 4.3 s like the object service of docs/contract.md; `instant`: no latency. */
  upstream: 'tester' | 'instant';
  /** Runs after the measurement, before the stack stops: what the histories it left say. */
  inspect?(system: RunningSystem): Promise<Record<string, unknown>>;
  /** Runs before the measurement starts. */
  prepare?(system: RunningSystem): Promise<void>;
  run(system: RunningSystem): Promise<ScenarioResult>;
  /** The same load on the engine floor, for a scenario that has a meaning there; others skip it. */
  runOnEngineFloor?(system: RunningEngineFloor, senders: number): Promise<ScenarioResult>;
}

const WARM_UP_IDS = Array.from({ length: 20 }, (_, i) => 1_000_001 + 2 * i);

/** The load's own workflows: not the warm-up's objects, and not the cleanup, whose cost is fixed and reported apart. */
const isLoad = ({ workflowId, type }: { workflowId: string; type: string }) =>
  type !== 'cleanupWorkflow' && !(Number(/^object-(\d+)$/.exec(workflowId)?.[1]) >= WARM_UP_IDS[0]!);

/**
 * Opens connections and lets the JIT see the request path. Odd ids are offline, so no rows; few
 * of them, so that the project's server has no backlog of starts when the measurement begins.
 */
async function warmUp(callbackUrl: string): Promise<void> {
  const result = await sendCallback(callbackUrl, WARM_UP_IDS, 10_000);
  if (!result.ok) console.error(`bench: warm-up callback failed: ${result.status ?? ''} ${result.error ?? ''}`);
  await sleep(1_000);
}

/** Known ids are posted in callbacks this small, so that the project accepts them without reposts. */
const PRIMING_IDS_PER_CALLBACK = 20;
/**
 * The project's server starts fewer than 100 workflows a second here, and an object workflow ends
 * 30 s after its last check: more known ids than this could not all be running at once.
 */
const MAX_KNOWN_FLEETS = 5;

/**
 * Ack latency of 200-id callbacks. For the project the ack is one start of the callback's
 * workflow; its hand-out, behind the ack, gives each id to its object's workflow. `new`: every id
 * is one the system has never seen (a workflow start each). `known`: each sender posts the same
 * 200 ids every time (with 20 senders, 4 share each of 5 such fleets), all posted once before the
 * measurement, like a fleet reporting again within the idle window (a signal into a running
 * workflow each).
 */
function ackScenario(ids: 'new' | 'known', senders: number, callbacksPerSender: number): Scenario {
  const fleets = Math.min(senders, MAX_KNOWN_FLEETS);
  const fleet = (sender: number) =>
    Array.from({ length: IDS_PER_CALLBACK }, (_, i) => (sender % fleets) * IDS_PER_CALLBACK + i);
  let primingRetries = 0;
  return {
    name: `ack-${ids}-${senders}`,
    upstream: 'tester',
    prepare: async ({ callbackUrl }) => {
      await warmUp(callbackUrl);
      if (ids === 'known') {
        const known = Array.from({ length: fleets * IDS_PER_CALLBACK }, (_, id) => id);
        ({ retries: primingRetries } = await postAll(
          callbackUrl,
          known,
          PRIMING_IDS_PER_CALLBACK,
          4,
          performance.now() + 60_000,
        ));
      }
    },
    run: async ({ callbackUrl }) => {
      const next = freshIds(0);
      const idsFor = ids === 'new' ? () => next(IDS_PER_CALLBACK) : fleet;
      const results = await closedLoop(callbackUrl, senders, callbacksPerSender, idsFor, settings.ackClientTimeoutMs);
      return {
        ids: results.filter((result) => result.ok).length * IDS_PER_CALLBACK,
        acks: summarizeAcks(results),
        ...(ids === 'known' ? { knownIds: fleets * IDS_PER_CALLBACK, primingRetries } : {}),
      };
    },
  };
}

async function fleetScenario(
  callbackUrl: string,
  watchUrl: string,
  fleetSize: number,
  callbacksPerSecond: number,
  more: Pick<Parameters<typeof fleetLoad>[0], 'faults' | 'settleWithinS'> & { seconds?: number } = {},
): Promise<ScenarioResult> {
  const result = await fleetLoad({
    callbackUrl,
    watchUrl,
    fleetSize,
    callbacksPerSecond,
    seconds: settings.fleetSeconds,
    isOnline,
    ...more,
  });
  // A server killed and started again starts its request counters from 0.
  const serverRestarted = result.faults?.some(({ name }) => name.startsWith('Temporal')) ?? false;
  return { ids: result.sightingsAccepted, fleetSize, callbacksPerSecond, ...result, serverRestarted };
}

const scenarios: Scenario[] = [
  ...(['new', 'known'] as const).flatMap((ids) => [
    ackScenario(ids, 1, settings.ackOneSenderCallbacks),
    ackScenario(ids, settings.ackConcurrentSenders, settings.ackCallbacksPerConcurrentSender),
  ]),
  {
    // ack-new-20's load while the project's Temporal server is down: every callback goes to the
    // outbox. Then the server comes back: how long the outbox takes to drain, whether every id
    // gets its row. The baseline has no outbox.
    name: 'ack-outbox',
    systems: ['project'],
    upstream: 'instant',
    run: async (system) => {
      const result = await ackWhileTemporalIsDown(system, {
        senders: settings.ackConcurrentSenders,
        callbacksPerSender: settings.ackCallbacksPerConcurrentSender,
        idsPerCallback: IDS_PER_CALLBACK,
        clientTimeoutMs: settings.ackClientTimeoutMs,
        isOnline,
        drainTimeoutS: settings.outboxDrainTimeoutS,
        rowsTimeoutS: settings.outboxRowsTimeoutS,
      });
      return { ids: result.idsAccepted, ...result };
    },
  },
  {
    // Callbacks of 20 from 4 senders: with 200-id callbacks the project's earlier design (one
    // start per id before the ack) missed its deadline and reposted; kept as it was so that runs
    // compare across commits. It measures the pipeline behind the API.
    name: 'end-to-end',
    upstream: 'instant',
    run: async ({ callbackUrl, benchDatabaseUrl }) => {
      const result = await endToEnd({
        callbackUrl,
        databaseUrl: benchDatabaseUrl,
        ids: settings.endToEndIds,
        idsPerCallback: settings.endToEndIdsPerCallback,
        senders: settings.endToEndSenders,
        isOnline,
        timeoutS: settings.endToEndTimeoutS,
      });
      return { ...result, ids: result.accepted, idsPosted: result.ids };
    },
    runOnEngineFloor: async ({ floor }, senders) => {
      const result = await floor.complete(freshIds(0)(settings.endToEndIds), senders, settings.endToEndTimeoutS);
      return { ...result, ids: result.started, idsPosted: result.ids };
    },
  },
  {
    // One callback of the most ids the API takes, all new. The target: acknowledged (2xx) in under 1 s.
    name: `ack-${settings.largeCallbackIds}`,
    upstream: 'tester',
    run: async ({ callbackUrl }) => {
      const results = await closedLoop(
        callbackUrl,
        1,
        1,
        () => freshIds(0)(settings.largeCallbackIds),
        settings.ackClientTimeoutMs,
      );
      return {
        ids: results.filter((result) => result.ok).length * settings.largeCallbackIds,
        acks: summarizeAcks(results),
      };
    },
  },
  ...settings.realisticRates.map((rate): Scenario => ({
    name: `realistic-${rate}x`,
    upstream: 'tester',
    run: async ({ callbackUrl, benchDatabaseUrl }) => {
      const result = await realistic({
        callbackUrl,
        watchUrl: benchDatabaseUrl,
        seconds: settings.realisticSeconds,
        intervalMs: 5_000 / rate,
        drainS: settings.realisticDrainS,
      });
      return { ids: result.idsAccepted, ...result };
    },
  })),
  ...settings.fleetSizes.flatMap((fleetSize) =>
    settings.fleetRates.map((rate): Scenario => ({
      // The product's TTL: a hand-out that falls more than 30 s behind loses its sightings.
      name: `fleet-${fleetSize}-${rate}`,
      objectTtlSeconds: 30,
      upstream: 'tester',
      run: ({ callbackUrl, benchDatabaseUrl }) => fleetScenario(callbackUrl, benchDatabaseUrl, fleetSize, rate),
      // The cleanup Schedule's runs apart: its cost comes with time, not with the load.
      inspect: async ({ temporal }) =>
        temporal
          ? {
              cloudActions: await cloudActionsFromHistories(temporal.address, isLoad),
              cleanupCloudActions: await cloudActionsFromHistories(
                temporal.address,
                ({ type }) => type === 'cleanupWorkflow',
              ),
            }
          : {},
    })),
  ),
  {
    // fleet-400-1 while every part fails once: the worker, the API and the Temporal server are
    // killed with SIGKILL and started again at once, and the database is cut off for 6 s.
    // Callbacks refused while the API is down are the sender's to repeat; every accepted one
    // must still be in place 7 s after the last callback (and the look repeats until 30 s after
    // it, to tell when they were).
    name: 'fleet-400-1-faults',
    objectTtlSeconds: 30,
    faults: true,
    systems: ['project'],
    upstream: 'tester',
    run: ({ callbackUrl, benchDatabaseUrl, faults, temporal }) => {
      if (!faults || !temporal) throw new Error('this system cannot be made to fail');
      return fleetScenario(callbackUrl, benchDatabaseUrl, 400, 1, {
        seconds: 55,
        settleWithinS: 30,
        faults: [
          { name: 'worker killed and restarted', atS: 12, cause: () => faults.crashAndRestart('worker') },
          { name: 'API killed and restarted', atS: 22, cause: () => faults.crashAndRestart('api') },
          {
            name: 'Temporal server killed and restarted',
            atS: 32,
            cause: async () => {
              await temporal.kill();
              await temporal.restart();
            },
          },
          {
            name: 'database cut off for 6 s',
            atS: 42,
            cause: async () => {
              await faults.database.cut();
              await sleep(6_000);
              await faults.database.open();
            },
          },
        ],
      });
    },
  },
  {
    // Two callbacks a second while the Temporal server is down for 20 s (the API puts them in
    // the outbox), 20 s more after it; the rows may take up to 30 s after the last callback.
    // The first look, 7 s after it, is reported too.
    name: 'fleet-400-2-outage',
    objectTtlSeconds: 30,
    systems: ['project'],
    upstream: 'tester',
    run: ({ callbackUrl, benchDatabaseUrl, temporal }) => {
      if (!temporal) throw new Error('this system has no Temporal server to stop');
      return fleetScenario(callbackUrl, benchDatabaseUrl, 400, 2, {
        seconds: 50,
        settleWithinS: 30,
        faults: [
          {
            name: 'Temporal server down for 20 s',
            atS: 10,
            cause: async () => {
              await temporal.kill();
              await sleep(20_000);
              await temporal.restart();
            },
          },
        ],
      });
    },
  },
];

/** What is running right now, stopped on Ctrl-C so that no server or database outlives the bench. */
const running = new Set<() => Promise<void>>();

async function withCleanup<T>(cleanup: () => Promise<void>, fn: () => Promise<T>): Promise<T> {
  running.add(cleanup);
  try {
    return await fn();
  } finally {
    running.delete(cleanup);
    await cleanup();
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}; stopping what runs`);
    void Promise.allSettled([...running].reverse().map((cleanup) => cleanup())).finally(() => process.exit(130));
  });
}

function perThousandIds(usage: Usage, ids: number): Record<string, number> {
  const perThousand = Object.fromEntries(
    Object.entries(usage.groups).map(([name, { cpuSeconds }]) => [
      name,
      ids > 0 ? round((1000 * cpuSeconds) / ids, 3) : NaN,
    ]),
  );
  const system = ['api', 'worker', 'server', 'postgres'].reduce((sum, name) => sum + (perThousand[name] ?? 0), 0);
  return { ...perThousand, total: round(system, 3) };
}

/** Waits for a quiet machine, prepares, then meters the stack's processes while the scenario runs. */
async function measure(
  stack: RunningStack,
  prepare: () => Promise<void>,
  run: () => Promise<ScenarioResult>,
): Promise<Record<string, unknown>> {
  const busyCoresBefore = await waitForQuietMachine(settings.quietWaitS);
  await prepare();
  const serverRequestsBefore = await stack.serverRequests?.();
  // A worker that is restarting answers nothing; the scenario then reports no wait.
  const readCheckWait = () => stack.checkWait?.().catch(() => undefined);
  const checkWaitBefore = await readCheckWait();
  const benchGroup = stack.inBenchProcess ? [] : [{ name: 'bench', fresh: false, pids: () => [process.pid] }];
  const meter = await ProcessMeter.start([...stack.groups, ...benchGroup]);
  const result = await run();
  const usage = await meter.stop();
  // A scenario that restarted the server restarted its counters too.
  const serverRequestsAfter = result.serverRestarted ? undefined : await stack.serverRequests?.();
  const checkWaitAfter = await readCheckWait();
  const checkWaitMs =
    checkWaitBefore && checkWaitAfter && quantilesBetween(checkWaitBefore, checkWaitAfter, [0.5, 0.99]);
  const measuredCpu = Object.values(usage.groups).reduce((sum, group) => sum + group.cpuSeconds, 0);
  return {
    ...result,
    usage,
    cpuSecondsPerThousandIds: perThousandIds(usage, result.ids),
    ...(serverRequestsBefore &&
      serverRequestsAfter && { serverRequests: requestsBetween(serverRequestsBefore, serverRequestsAfter) }),
    ...(checkWaitMs && { checkWaitMs }),
    busyCoresBefore,
    // CPU that ran beside the measured processes: someone else's work on this shared machine.
    otherCores: round((usage.machineCpuSeconds - measuredCpu) / usage.seconds, 2),
  };
}

async function runScenario(system: SystemUnderTest, scenario: Scenario): Promise<Record<string, unknown>> {
  const objectService = await startFakeObjectService({
    isOnline,
    ...(scenario.upstream === 'instant' ? { minLatencyMs: 0, maxLatencyMs: 0 } : {}),
  });
  return withCleanup(
    () => objectService.close(),
    async () => {
      const stack = await system.start(objectService.url, scenario.name, {
        objectTtlSeconds: scenario.objectTtlSeconds ?? 3600,
        faults: scenario.faults,
      });
      let requestsBefore = 0;
      const result = await withCleanup(
        () => stack.stop(),
        async () => {
          const measured = await measure(
            stack,
            // Known ids must still have running workflows when measured: prepare after the quiet wait.
            async () => {
              await (scenario.prepare ?? (({ callbackUrl }) => warmUp(callbackUrl)))(stack);
              requestsBefore = objectService.stats.requests;
            },
            () => scenario.run(stack),
          );
          return { ...measured, ...(await scenario.inspect?.(stack)) };
        },
      );
      return {
        ...result,
        objectService: {
          requests: objectService.stats.requests - requestsBefore,
          peakInFlight: objectService.stats.peakInFlight,
        },
      };
    },
  );
}

async function runOnEngineFloor(
  system: EngineFloorSystem,
  run: NonNullable<Scenario['runOnEngineFloor']>,
): Promise<Record<string, unknown>> {
  const stack = await system.start();
  return withCleanup(
    () => stack.stop(),
    () =>
      measure(
        stack,
        // The warm-up's ids, as for the other systems, each to its workflow's completion.
        async () => {
          await stack.floor.complete(WARM_UP_IDS, system.senders, 30);
        },
        () => run(stack, system.senders),
      ),
  );
}

async function machine(databaseUrl: string): Promise<Record<string, unknown>> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const postgres = (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
  await db.end();
  const cli = findTemporalCli();
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    temporal: cli ? execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim() : 'SDK download',
    rabbitmq: await brokerVersion(),
    postgres,
    loadAverageAtStart: os.loadavg().map((load) => round(load, 2)),
  };
}

async function main(): Promise<void> {
  const only = process.env.BENCH_SCENARIOS?.split(',');
  const selected = scenarios.filter((scenario) => !only || only.includes(scenario.name));
  const onlySystems = process.env.BENCH_SYSTEMS?.split(',');
  const systems: Array<SystemUnderTest | EngineFloorSystem> = [];
  const floors = settings.engineFloorSenders.map((senders) => new EngineFloorSystem(senders));
  // BENCH_BEFORE_ROOT: another checkout, built, measured as `project-before` beside this one.
  const before = process.env.BENCH_BEFORE_ROOT
    ? [new ProjectSystem('project-before', process.env.BENCH_BEFORE_ROOT)]
    : [];
  // The project again with MIN_CHECK_INTERVAL_SECONDS set (BENCH_CHECK_INTERVAL_SECONDS, default 20).
  const interval = new ProjectSystem('project-interval', undefined, {
    MIN_CHECK_INTERVAL_SECONDS: process.env.BENCH_CHECK_INTERVAL_SECONDS ?? '20',
  });
  for (const system of [new ProjectSystem(), ...before, interval, new BaselineSystem(), ...floors]) {
    const picked =
      onlySystems?.includes(system.name) ||
      (system instanceof EngineFloorSystem && onlySystems?.includes('engine-floor'));
    if (onlySystems && !picked) continue;
    systems.push(await system.open());
    running.add(() => system.close());
  }
  const report = {
    startedAt: new Date().toISOString(),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
    ...(process.env.BENCH_PROJECT_ROOT && { projectRoot: process.env.BENCH_PROJECT_ROOT }),
    ...(process.env.BENCH_BEFORE_ROOT && { beforeRoot: process.env.BENCH_BEFORE_ROOT }),
    machine: await machine(ADMIN_URL),
    settings,
    results: Object.fromEntries(systems.map((system) => [system.name, {}])) as Record<string, Record<string, unknown>>,
    durationS: 0,
  };
  const started = performance.now();
  try {
    for (const scenario of selected) {
      for (const system of systems) {
        const onFloor = scenario.runOnEngineFloor;
        const run =
          system instanceof EngineFloorSystem
            ? onFloor && (() => runOnEngineFloor(system, onFloor))
            : (!scenario.systems ||
                scenario.systems.includes(system.name === 'project-before' ? 'project' : system.name)) &&
              (() => runScenario(system, scenario));
        if (!run) continue;
        console.error(`bench: ${scenario.name} on ${system.name}…`);
        try {
          (report.results[system.name] as Record<string, unknown>)[scenario.name] = await run();
        } catch (error) {
          console.error(`bench: ${scenario.name} on ${system.name} failed:`, error);
          (report.results[system.name] as Record<string, unknown>)[scenario.name] = { error: String(error) };
        }
      }
    }
  } finally {
    await Promise.all(systems.map((system) => system.close()));
  }
  report.durationS = round((performance.now() - started) / 1000, 0);
  const file = process.env.BENCH_RESULTS ?? path.join(__dirname, 'results', 'latest.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(formatReport(report));
  const fleet = formatFleetReport(report);
  if (fleet) console.log(`\n${fleet}`);
  const cost = formatCostReport(report);
  if (cost) console.log(`\n${cost}`);
  console.log(`\nraw numbers: ${path.relative(process.cwd(), file)}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
