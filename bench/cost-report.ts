import type { CloudActions } from './cloud-actions';

/** Temporal Cloud's price of its first tier, and a namespace's default rate limit. */
const DOLLARS_PER_MILLION_ACTIONS = 50;
const NAMESPACE_ACTIONS_PER_SECOND = 500;
/** A Schedule's run counts as three actions, and the cleanup workflow's activity as one more. */
const ACTIONS_PER_CLEANUP_RUN = 4;
const SECONDS_PER_DAY = 86_400;

interface CostRun {
  fleetSize: number;
  callbacksPerSecond: number;
  sightingsAccepted: number;
  trailsByMaxS?: number;
  missing: number;
  objectService?: { requests: number };
  cloudActions?: CloudActions;
}

const dollarsPerDay = (actionsPerSecond: number) =>
  (actionsPerSecond * SECONDS_PER_DAY * DOLLARS_PER_MILLION_ACTIONS) / 1e6;

/**
 * What the fleet scenarios would cost on Temporal Cloud, from the actions their histories add up
 * to, by the published rules: per sighting, per second of load, per day at the first tier's price,
 * and as a share of the default namespace limit; the cleanup Schedule's fixed cost beside them.
 */
export function formatCostReport(report: {
  results: Record<string, Record<string, unknown>>;
  settings: { fleetSeconds: number };
}): string | undefined {
  const lines: string[] = [];
  for (const [system, scenarios] of Object.entries(report.results)) {
    for (const [name, result] of Object.entries(scenarios)) {
      const run = result as CostRun;
      if (!name.startsWith('fleet-') || !run.cloudActions || run.sightingsAccepted === 0) continue;
      const perSecond = run.cloudActions.total / report.settings.fleetSeconds;
      lines.push(
        `| ${system} | ${name} | ${run.sightingsAccepted} | ${run.cloudActions.total} | ` +
          `${(run.cloudActions.total / run.sightingsAccepted).toFixed(2)} | ${perSecond.toFixed(1)} | ` +
          `$${dollarsPerDay(perSecond).toFixed(0)} | ${((100 * perSecond) / NAMESPACE_ACTIONS_PER_SECOND).toFixed(1)} % | ` +
          `${run.objectService?.requests ?? '–'} | ${run.missing} | ${run.trailsByMaxS ?? '–'} |`,
      );
    }
  }
  if (lines.length === 0) return undefined;
  const cleanup = [3, 30].map((intervalS) => {
    const perDay = (SECONDS_PER_DAY / intervalS) * ACTIONS_PER_CLEANUP_RUN;
    return `every ${intervalS} s: ${perDay.toLocaleString('en')} actions a day, $${((perDay * DOLLARS_PER_MILLION_ACTIONS) / 1e6).toFixed(2)}`;
  });
  return [
    '| system | scenario | sightings | Cloud actions | per sighting | per second | a day at $50 per million | of the 500/s default | object-service requests | no row at the look | trails its newest sighting by, s, at most |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
    '',
    `The cleanup Schedule, whatever the fleet (${ACTIONS_PER_CLEANUP_RUN} actions a run): ${cleanup.join('; ')}.`,
  ].join('\n');
}
