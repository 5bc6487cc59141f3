import { loadConfig } from '../src/config';
import type { CloudActions } from './cloud-actions';
import type { ServerRequests } from './server-requests';

/** Temporal Cloud's price of its first tier, and a namespace's default rate limit. */
const DOLLARS_PER_MILLION_ACTIONS = 50;
const NAMESPACE_ACTIONS_PER_SECOND = 500;
/**
 * A Schedule's run counts as three actions (its two and the start of the workflow it runs), and
 * the cleanup workflow's activity as one more: the figure when no run was measured.
 */
const ACTIONS_PER_CLEANUP_RUN = 4;
const SECONDS_PER_DAY = 86_400;
/** The interval the project's workers give the cleanup Schedule in the bench: the default, unless set. */
const CLEANUP_INTERVAL_SECONDS = loadConfig({
  CLEANUP_INTERVAL_SECONDS: process.env.CLEANUP_INTERVAL_SECONDS,
}).cleanupIntervalSeconds;

export interface CostRun {
  fleetSize: number;
  callbacksPerSecond: number;
  sightingsAccepted: number;
  trailsByMaxS?: number;
  missing: number;
  objectService?: { requests: number };
  serverRequests?: ServerRequests;
  /** The load's own workflows. */
  cloudActions?: CloudActions;
  /** Every cleanup run the server kept, the measurement's and the rest of the stack's life. */
  cleanupCloudActions?: CloudActions;
}

/** Actions of one cleanup run: measured from its runs' histories when there are any. */
export const actionsPerCleanupRun = (run: CostRun): number =>
  run.cleanupCloudActions?.runs
    ? run.cleanupCloudActions.total / run.cleanupCloudActions.runs
    : ACTIONS_PER_CLEANUP_RUN;

/** The cleanup Schedule's actions while the load ran: a run every CLEANUP_INTERVAL_SECONDS. */
export const cleanupShare = (run: CostRun, fleetSeconds: number): number =>
  (fleetSeconds / CLEANUP_INTERVAL_SECONDS) * actionsPerCleanupRun(run);

const dollarsPerDay = (actionsPerSecond: number) =>
  (actionsPerSecond * SECONDS_PER_DAY * DOLLARS_PER_MILLION_ACTIONS) / 1e6;

/**
 * What the fleet scenarios would cost on Temporal Cloud, from the actions their histories add up
 * to by the published rules (bench/cloud-actions.ts), with the cleanup Schedule's runs over the
 * same time: per sighting, per second of load, per day at the first tier's price, and as a share
 * of the default namespace limit. Beside it, the estimated heartbeats and the signal-with-starts
 * against the dev server's own count of those requests, under BENCH_PROFILE=1.
 */
export function formatCostReport(report: {
  results: Record<string, Record<string, unknown>>;
  settings: { fleetSeconds: number };
}): string | undefined {
  const { fleetSeconds } = report.settings;
  const lines: string[] = [];
  const checks: string[] = [];
  const cleanupRuns: CostRun[] = [];
  for (const [system, scenarios] of Object.entries(report.results)) {
    for (const [name, result] of Object.entries(scenarios)) {
      const run = result as CostRun;
      const actions = run.cloudActions;
      if (!name.startsWith('fleet-') || !actions || run.sightingsAccepted === 0) continue;
      cleanupRuns.push(run);
      const cleanup = cleanupShare(run, fleetSeconds);
      const total = actions.total + cleanup;
      const perSecond = total / fleetSeconds;
      const kinds = [
        actions.workflows,
        `${actions.signals} (${actions.signalWithStartRuns})`,
        actions.activities,
        actions.heartbeats,
        actions.localActivities,
        actions.workflowTaskHeartbeats,
        actions.timers,
      ].join(' / ');
      lines.push(
        `| ${system} | ${name} | ${run.sightingsAccepted} | ${actions.total} | ${kinds} | ${Math.round(cleanup)} | ` +
          `${(total / run.sightingsAccepted).toFixed(2)} | ${perSecond.toFixed(1)} | ` +
          `$${dollarsPerDay(perSecond).toFixed(0)} | ${((100 * perSecond) / NAMESPACE_ACTIONS_PER_SECOND).toFixed(1)} % | ` +
          `${run.objectService?.requests ?? '–'} | ${run.missing} | ${run.trailsByMaxS ?? '–'} |`,
      );
      const rpc = run.serverRequests?.rpc;
      if (rpc) {
        checks.push(
          `${system} ${name}: heartbeats ${actions.heartbeats} / ${rpc['frontend.RecordActivityTaskHeartbeat'] ?? 0}, ` +
            `signals ${actions.signals} / ${rpc['frontend.SignalWithStartWorkflowExecution'] ?? 0}`,
        );
      }
    }
  }
  if (lines.length === 0) return undefined;
  const measured = cleanupRuns.filter((run) => run.cleanupCloudActions?.runs);
  const runsMeasured = measured.reduce((sum, run) => sum + run.cleanupCloudActions!.runs, 0);
  const perRun = runsMeasured
    ? measured.reduce((sum, run) => sum + run.cleanupCloudActions!.total, 0) / runsMeasured
    : ACTIONS_PER_CLEANUP_RUN;
  const cleanup = [CLEANUP_INTERVAL_SECONDS, 30].map((intervalS) => {
    const perDay = (SECONDS_PER_DAY / intervalS) * perRun;
    return `every ${intervalS} s, ${Math.round(perDay).toLocaleString('en')} actions a day, $${((perDay * DOLLARS_PER_MILLION_ACTIONS) / 1e6).toFixed(2)}`;
  });
  return [
    '| system | scenario | sightings | load actions | starts / signals (of them, signal-with-starts that started a run) / activity attempts / activity heartbeats / workflow tasks with local activities / workflow-task heartbeats / timers | cleanup Schedule, its share | per sighting | per second | a day at $50 per million | of the 500/s default | object-service requests | no row at the look | trails its newest sighting by, s, at most |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
    '',
    `The cleanup Schedule, whatever the fleet: ${perRun.toFixed(2)} actions a run (${runsMeasured ? `${runsMeasured} runs measured` : 'by the rules'}; ` +
      `the Schedule's three and its workflow's activity), ${cleanup.join('; ')}. The share above is its runs over the ` +
      `${fleetSeconds} s of load, every ${CLEANUP_INTERVAL_SECONDS} s.`,
    ...(checks.length > 0
      ? [
          '',
          `Counted from the histories / the dev server's requests in the measurement (RecordActivityTaskHeartbeat, SignalWithStartWorkflowExecution): ${checks.join('; ')}.`,
        ]
      : []),
  ].join('\n');
}
