import type { CloudActions } from './cloud-actions';
import { cleanupShare } from './cost-report';
import type { FleetResult } from './fleet';
import type { ServerRequests } from './server-requests';

interface FleetRun extends FleetResult {
  fleetSize: number;
  callbacksPerSecond: number;
  objectService?: { requests: number; peakInFlight: number };
  /** How long sightings waited for the status request that answers for them (the worker's histogram). */
  checkWaitMs?: { p50: number; p99: number };
  serverRequests?: ServerRequests;
  cloudActions?: CloudActions;
  cleanupCloudActions?: CloudActions;
  error?: string;
}

/**
 * Persistence operations that write: each is one transaction on the dev server's SQLite. Reads
 * (Get*, List*, Read*) are left out: they cost no fsync.
 */
const isWrite = (operation: string) =>
  /\.(Create|Update|Append|Complete|RangeComplete|Delete|Put|Set|Conflict|Insert|Upsert|Lock|Extend|Add)/.test(
    operation,
  );

const sum = (counts: Record<string, number>, keep: (key: string) => boolean) =>
  Object.entries(counts).reduce((total, [key, count]) => total + (keep(key) ? count : 0), 0);
const per = (count: number | undefined, by: number | undefined) =>
  count === undefined || !by ? '–' : (count / by).toFixed(2);

/**
 * The fleet scenarios: per system and fleet, each rate's outcome, and the highest rate at which
 * every sighted online object kept its up-to-date row with receipt-to-row p99 <= upstream + 1 s.
 */
export function formatFleetReport(report: {
  results: Record<string, Record<string, unknown>>;
  settings: { maxConcurrentChecks: number; fleetSeconds: number };
}): string | undefined {
  const lines: string[] = [];
  const sustained: string[] = [];
  for (const [system, scenarios] of Object.entries(report.results)) {
    const runs = Object.entries(scenarios)
      .filter(([name]) => name.startsWith('fleet-'))
      .map(([name, run]) => [name, run as FleetRun] as const);
    if (runs.length === 0) continue;
    const best = new Map<number, number>();
    for (const [name, run] of runs) {
      if (run.error) {
        lines.push(`| ${system} | ${name} | failed: ${run.error} |`);
        continue;
      }
      const writes = run.serverRequests && sum(run.serverRequests.persistence, isWrite);
      const calls = run.serverRequests && sum(run.serverRequests.persistence, () => true);
      const checks = run.objectService?.requests;
      // Only the steady loads say what rate a system sustains; the fault scenarios say what it survives.
      if (run.keptUp && !run.faults) {
        best.set(run.fleetSize, Math.max(best.get(run.fleetSize) ?? 0, run.callbacksPerSecond));
      }
      const faults = run.faults?.map(({ name, atS }) => `${name} at ${atS} s`).join('; ') ?? '–';
      lines.push(
        `| ${system} | ${run.fleetSize} | ${run.callbacksPerSecond}/s | ${faults} | ${run.sightingsAccepted} | ${run.acks.failed} of ${run.acks.callbacks} | ` +
          `${run.sightedOnline} | ${run.missing} | ${run.behind} | ${run.upToDateAfterS ?? '–'} | ${run.offlineRows} / ${run.notExpired} | ` +
          `${run.receiptToRow.p50} / ${run.receiptToRow.p99} | ${run.checkWaitMs ? `${run.checkWaitMs.p50} / ${run.checkWaitMs.p99}` : '–'} | ` +
          `${run.objectService?.peakInFlight ?? '–'} of ${report.settings.maxConcurrentChecks} | ${run.keptUp ? 'yes' : 'no'} | ` +
          `${checks ?? '–'} | ${per(writes, run.sightingsAccepted)} / ${per(writes, checks)} | ${per(calls, run.sightingsAccepted)} | ` +
          `${run.cloudActions ? per((run.cloudActions.total + cleanupShare(run, report.settings.fleetSeconds)) * 1000, run.sightingsAccepted) : '–'} |`,
      );
    }
    for (const [fleetSize, rate] of [...best].sort(([a], [b]) => a - b)) {
      sustained.push(`${system}, fleet ${fleetSize}: ${rate} callbacks/s`);
    }
  }
  if (lines.length === 0) return undefined;
  return [
    '| system | fleet | rate | faults | sightings accepted | callbacks not 2xx | sighted online (last 28 s) | no row when looked for | row behind its newest sighting | up to date, s after the last callback | rows of offline / of expired objects | receipt-to-row ms p50 / p99 | sighting to its request ms p50 / p99 | object-service requests at once, peak | kept up | checks | server writes per sighting / per check | persistence calls per sighting | Cloud actions per 1,000 sightings, cleanup Schedule included |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
    '',
    `Highest rate kept up (every sighted online object has its up-to-date row 7 s after the last callback, no offline or expired object has one, receipt-to-row p99 <= upstream + 1 s): ${sustained.length > 0 ? sustained.join('; ') : 'none'}`,
  ].join('\n');
}
