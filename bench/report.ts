import { readFileSync } from 'node:fs';

/** Upper bound of the tester's upstream latency: the realistic target is this plus 1 s. */
const MAX_UPSTREAM_LATENCY_MS = 4_300;

interface Report {
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  results: Record<string, Record<string, unknown>>;
  durationS: number;
}

type Systems = 'project' | 'baseline';

function lookup(value: unknown, dottedPath: string): unknown {
  return dottedPath.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const show = (value: number | undefined): string => (value === undefined ? '–' : String(value));

/** A table row: one cell per system, the project ÷ baseline ratio of `ratioOf`, and a verdict. */
interface Row {
  label: string;
  cells: Record<Systems, string>;
  ratio: string;
  target: string;
}

export function formatReport(report: Report): string {
  const at = (system: Systems, dottedPath: string) => num(lookup(report.results[system], dottedPath));
  const ratioOf = (dottedPath: string): string => {
    const [project, baseline] = [at('project', dottedPath), at('baseline', dottedPath)];
    if (project === undefined || baseline === undefined || baseline === 0) return '–';
    const ratio = project / baseline;
    return `${ratio < 0.1 ? ratio.toPrecision(2) : ratio.toFixed(2)}×`;
  };
  const rows: Row[] = [];
  const row = (label: string, cell: (system: Systems) => string, ratioPath: string | undefined, target = '') =>
    rows.push({ label, cells: { project: cell('project'), baseline: cell('baseline') }, ratio: ratioPath ? ratioOf(ratioPath) : '', target });
  const verdict = (met: boolean | undefined, goal: string) => (met === undefined ? goal : `${goal}: ${met ? 'met' : 'MISSED'}`);

  for (const [scenario, label, goal] of [
    ['ack-new-1', 'ack ms p50/p99/max, new ids, 1 sender', undefined],
    ['ack-new-20', 'ack ms p50/p99/max, new ids, 20 senders', 100],
    ['ack-known-1', 'ack ms p50/p99/max, known ids, 1 sender', undefined],
    ['ack-known-20', 'ack ms p50/p99/max, known ids, 20 senders', 100],
  ] as const) {
    const p99 = at('project', `${scenario}.acks.p99`);
    row(
      label,
      (system) => [50, 99].map((q) => show(at(system, `${scenario}.acks.p${q}`))).concat(show(at(system, `${scenario}.acks.max`))).join(' / '),
      `${scenario}.acks.p99`,
      goal === undefined ? '' : verdict(p99 === undefined ? undefined : p99 <= goal, `p99 ≤ ${goal}`),
    );
    row('  callbacks not 2xx', (system) => `${show(at(system, `${scenario}.acks.failed`))} of ${show(at(system, `${scenario}.acks.callbacks`))}`, undefined);
  }

  const projectRate = at('project', 'end-to-end.idsPerSecond');
  const baselineRate = at('baseline', 'end-to-end.idsPerSecond');
  row(
    `end-to-end ids/s (${show(num(report.settings.endToEndIds))} ids, ${show(num(report.settings.endToEndIdsPerCallback))} per callback)`,
    (system) => {
      const rate = show(at(system, 'end-to-end.idsPerSecond'));
      if (lookup(report.results[system], 'end-to-end.complete') !== false) return rate;
      return `${rate} (timed out: ${show(at(system, 'end-to-end.rows'))} of ${show(at(system, 'end-to-end.expectedRows'))} rows)`;
    },
    'end-to-end.idsPerSecond',
    verdict(projectRate === undefined ? undefined : projectRate >= 500 && (baselineRate === undefined || projectRate >= baselineRate / 2), '≥ 500 and ≥ 0.5×'),
  );

  row(
    '  callbacks accepted: ids/s',
    (system) => {
      const [accepted, after] = [at(system, 'end-to-end.accepted'), at(system, 'end-to-end.acceptedAllAfterS')];
      return accepted === undefined || !after ? '–' : String(Math.round(accepted / after));
    },
    undefined,
  );

  for (const rate of ['1x', '10x']) {
    const scenario = `realistic-${rate}`;
    const p99 = at('project', `${scenario}.receiptToRow.p99`);
    const goal = MAX_UPSTREAM_LATENCY_MS + 1_000;
    row(
      `receipt-to-row ms p50/p99, ${rate}`,
      (system) => `${show(at(system, `${scenario}.receiptToRow.p50`))} / ${show(at(system, `${scenario}.receiptToRow.p99`))}`,
      `${scenario}.receiptToRow.p99`,
      verdict(p99 === undefined ? undefined : p99 <= goal, `p99 ≤ ${goal}`),
    );
    row(
      `  ack ms p50/p99, ${rate}; not 2xx`,
      (system) =>
        `${show(at(system, `${scenario}.acks.p50`))} / ${show(at(system, `${scenario}.acks.p99`))}; ${show(at(system, `${scenario}.acks.failed`))} of ${show(at(system, `${scenario}.acks.callbacks`))}`,
      `${scenario}.acks.p99`,
    );
  }

  for (const scenario of ['end-to-end', 'realistic-10x']) {
    for (const group of ['api', 'worker', 'server', 'postgres', 'total']) {
      const path = `${scenario}.cpuSecondsPerThousandIds.${group}`;
      row(`CPU s/1,000 ids, ${scenario}: ${group}`, (system) => show(at(system, path)), path);
    }
    for (const group of ['api', 'worker', 'server']) {
      const path = `${scenario}.usage.groups.${group}.peakRssMb`;
      row(`peak RSS MB, ${scenario}: ${group}`, (system) => show(at(system, path)), path);
    }
    for (const group of ['api', 'worker', 'server']) {
      const cpu = `${scenario}.usage.groups.${group}.cpuSeconds`;
      const wait = `${scenario}.usage.groups.${group}.runQueueWaitSeconds`;
      row(`CPU s / s waiting for a core, ${scenario}: ${group}`, (system) => `${show(at(system, cpu))} / ${show(at(system, wait))}`, undefined);
    }
  }

  const scenarios = Object.keys({ ...report.results.project, ...report.results.baseline });
  row('other load on the machine, cores (max of scenarios)', (system) => show(Math.max(...scenarios.map((name) => at(system, `${name}.otherCores`) ?? 0))), undefined);

  const header: Row = { label: 'metric', cells: { project: 'project', baseline: 'baseline', }, ratio: 'project/baseline', target: 'target (project)' };
  const all = [header, ...rows];
  const width = (pick: (row: Row) => string) => Math.max(...all.map((each) => pick(each).length));
  const widths = [width((each) => each.label), width((each) => each.cells.project), width((each) => each.cells.baseline), width((each) => each.ratio)];
  const line = (each: Row) =>
    `| ${[each.label, each.cells.project, each.cells.baseline, each.ratio].map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ')} | ${each.target} |`;
  const separator = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|---|`;
  const notes = [
    `server = Temporal dev server (project) or RabbitMQ (baseline); worker = Temporal worker or queue consumer.`,
    `machine: ${JSON.stringify(report.machine)}`,
    `run took ${report.durationS} s${report.settings.quick ? ' (BENCH_QUICK)' : ''}`,
  ];
  return [line(header), separator, ...rows.map(line), '', ...notes, ...serverRequestLines(report)].join('\n');
}

/** Under BENCH_PROFILE=1: what the Temporal server did per 1,000 accepted ids, busiest first. */
function serverRequestLines(report: Report): string[] {
  const lines: string[] = [];
  for (const [scenario, result] of Object.entries(report.results.project ?? {})) {
    const requests = lookup(result, 'serverRequests') as Record<'rpc' | 'persistence' | 'persistenceSeconds', Record<string, number>> | undefined;
    const ids = num(lookup(result, 'ids'));
    if (!requests || !ids) continue;
    const perThousand = (counts: Record<string, number>) =>
      Object.entries(counts)
        .slice(0, 8)
        .map(([name, count]) => `${name} ${Math.round((1000 * count) / ids)}`)
        .join(', ');
    const total = (counts: Record<string, number>) => Math.round((1000 * Object.values(counts).reduce((sum, count) => sum + count, 0)) / ids);
    lines.push(
      `Temporal server per 1,000 ids, ${scenario}: ${total(requests.rpc)} gRPC calls (${perThousand(requests.rpc)}); ` +
        `${total(requests.persistence)} persistence calls (${perThousand(requests.persistence)}), ` +
        `${total(requests.persistenceSeconds ?? {})} s in them, waiting for SQLite included`,
    );
  }
  return lines.length > 0 ? ['', ...lines] : [];
}

/** Prints the table of a results file again: node --import tsx bench/report.ts bench/results/latest.json */
if (require.main === module) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: report.ts <results.json>');
  console.log(formatReport(JSON.parse(readFileSync(file, 'utf8')) as Report));
}
