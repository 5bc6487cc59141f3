import { readFileSync } from 'node:fs';

/** Upper bound of the tester's upstream latency: the realistic target is this plus 1 s. */
const MAX_UPSTREAM_LATENCY_MS = 4_300;

interface Report {
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  results: Record<string, Record<string, unknown>>;
  durationS: number;
}

/** project, baseline, and the engine floor's runs: `engine-floor-<senders>` (`engine-floor` in older results). */
type System = string;
const isFloor = (system: System) => system.startsWith('engine-floor');
/** What the project is compared with: the ratio columns. */
type Reference = 'baseline' | 'floor';

function lookup(value: unknown, dottedPath: string): unknown {
  return dottedPath
    .split('.')
    .reduce<unknown>(
      (node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined),
      value,
    );
}

const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;
const show = (value: number | undefined): string => (value === undefined ? '–' : String(value));

/** A table row: one cell per system, the project's ratio to each reference, and a verdict. */
interface Row {
  label: string;
  cells: Record<System, string>;
  ratios: Record<Reference, string>;
  target: string;
}

interface RowSpec {
  /** The engine floor's cell stays empty unless it ran this scenario; unset: a row about every scenario. */
  scenario?: string;
  label: string;
  cell: (system: System) => string;
  /** The number whose project ÷ reference ratios the row shows. */
  ratioPath?: string;
  /** Also the ratio to the engine floor: only where the two measure the same thing. */
  floorRatio?: boolean;
  target?: string;
}

export function formatReport(report: Report): string {
  const at = (system: System, dottedPath: string) => num(lookup(report.results[system], dottedPath));
  const ran = (system: System, scenario: string) => lookup(report.results[system], scenario) !== undefined;
  // The floor's runs that measured something, fewest senders first; the project is compared with the fastest.
  const floors = Object.keys(report.results)
    .filter((system) => isFloor(system) && Object.keys(report.results[system] ?? {}).length > 0)
    .sort((a, b) => (at(a, 'end-to-end.senders') ?? 0) - (at(b, 'end-to-end.senders') ?? 0));
  const bestFloor = floors.reduce<System | undefined>(
    (best, floor) =>
      best === undefined || (at(floor, 'end-to-end.idsPerSecond') ?? -1) > (at(best, 'end-to-end.idsPerSecond') ?? -1)
        ? floor
        : best,
    undefined,
  );
  const systems = ['project', ...(report.results['project-before'] ? ['project-before'] : []), 'baseline', ...floors];
  const referenceSystem: Record<Reference, System | undefined> = { baseline: 'baseline', floor: bestFloor };
  const ratioOf = (reference: Reference, dottedPath: string): string => {
    const referenceName = referenceSystem[reference];
    if (referenceName === undefined) return '–';
    const [project, other] = [at('project', dottedPath), at(referenceName, dottedPath)];
    if (project === undefined || other === undefined || other === 0) return '–';
    const ratio = project / other;
    return `${ratio < 0.1 ? ratio.toPrecision(2) : ratio.toFixed(2)}×`;
  };
  const rows: Row[] = [];
  const row = ({ scenario, label, cell, ratioPath, floorRatio = false, target = '' }: RowSpec) => {
    const onFloor = (floor: System) => scenario === undefined || ran(floor, scenario);
    rows.push({
      label,
      cells: Object.fromEntries(
        systems.map((system) => [system, !isFloor(system) || onFloor(system) ? cell(system) : '']),
      ),
      ratios: {
        baseline: ratioPath ? ratioOf('baseline', ratioPath) : '',
        floor: ratioPath && floorRatio && bestFloor && onFloor(bestFloor) ? ratioOf('floor', ratioPath) : '',
      },
      target,
    });
  };
  const verdict = (met: boolean | undefined, goal: string) =>
    met === undefined ? goal : `${goal}: ${met ? 'met' : 'MISSED'}`;

  for (const [scenario, label, goal] of [
    ['ack-new-1', 'ack ms p50/p99/max, new ids, 1 sender', undefined],
    ['ack-new-20', 'ack ms p50/p99/max, new ids, 20 senders', 100],
    ['ack-known-1', 'ack ms p50/p99/max, known ids, 1 sender', undefined],
    ['ack-known-20', 'ack ms p50/p99/max, known ids, 20 senders', 100],
  ] as const) {
    const p99 = at('project', `${scenario}.acks.p99`);
    row({
      scenario,
      label,
      cell: (system) =>
        [50, 99]
          .map((q) => show(at(system, `${scenario}.acks.p${q}`)))
          .concat(show(at(system, `${scenario}.acks.max`)))
          .join(' / '),
      ratioPath: `${scenario}.acks.p99`,
      target: goal === undefined ? '' : verdict(p99 === undefined ? undefined : p99 <= goal, `p99 ≤ ${goal}`),
    });
    row({
      scenario,
      label: '  callbacks not 2xx',
      cell: (system) =>
        `${show(at(system, `${scenario}.acks.failed`))} of ${show(at(system, `${scenario}.acks.callbacks`))}`,
    });
    if (scenario === 'ack-new-20') outboxRows();
  }

  /** `ack-outbox`, beside the normal ack of the same load: only the project has an outbox. */
  function outboxRows(): void {
    const scenario = 'ack-outbox';
    const projectOnly = (cell: (system: System) => string) => (system: System) =>
      system === 'project' ? cell(system) : system === 'baseline' ? 'n/a' : '';
    const statuses = (system: System) =>
      Object.entries(
        (lookup(report.results[system], `${scenario}.acks.statuses`) as Record<string, number> | undefined) ?? {},
      )
        .map(([status, callbacks]) => `${status}: ${callbacks}`)
        .join(', ') || '–';
    row({
      scenario,
      label: '  the same, Temporal down (outbox): ack ms p50/p99/max',
      cell: projectOnly((system) =>
        [50, 99]
          .map((q) => show(at(system, `${scenario}.acks.p${q}`)))
          .concat(show(at(system, `${scenario}.acks.max`)))
          .join(' / '),
      ),
    });
    row({
      scenario,
      label: '    callbacks not 2xx (statuses)',
      cell: projectOnly(
        (system) =>
          `${show(at(system, `${scenario}.acks.failed`))} of ${show(at(system, `${scenario}.acks.callbacks`))} (${statuses(system)})`,
      ),
    });
    row({
      scenario,
      label: '    restarted: s to serve; outbox empty after s',
      cell: projectOnly((system) => {
        const drain =
          lookup(report.results[system], `${scenario}.drained`) === false
            ? 'not drained'
            : show(at(system, `${scenario}.drainS`));
        return `${show(at(system, `${scenario}.restartS`))}; ${drain} (${show(at(system, `${scenario}.outboxAfterPosting`))} callbacks)`;
      }),
    });
    row({
      scenario,
      label: '    callback workflows; ids with rows after s',
      cell: projectOnly(
        (system) =>
          `${show(at(system, `${scenario}.callbackWorkflows`))} of ${show(at(system, `${scenario}.callbacksAccepted`))}; ` +
          `${show(at(system, `${scenario}.rows`))} of ${show(at(system, `${scenario}.expectedRows`))} after ${show(at(system, `${scenario}.rowsAfterS`))}` +
          (lookup(report.results[system], `${scenario}.rowsComplete`) === false ? ' (timed out)' : ''),
      ),
    });
  }

  const largeIds = num(report.settings.largeCallbackIds);
  if (largeIds !== undefined) {
    const scenario = `ack-${largeIds}`;
    const [latency, failed] = [at('project', `${scenario}.acks.max`), at('project', `${scenario}.acks.failed`)];
    const statuses = (system: System) =>
      Object.keys((lookup(report.results[system], `${scenario}.acks.statuses`) as object | undefined) ?? {}).join(
        ', ',
      ) || '–';
    row({
      scenario,
      label: `ack ms; status, one callback of ${largeIds} new ids`,
      cell: (system) => `${show(at(system, `${scenario}.acks.max`))}; ${statuses(system)}`,
      ratioPath: `${scenario}.acks.max`,
      target: verdict(
        latency === undefined || failed === undefined ? undefined : failed === 0 && latency < 1_000,
        '2xx in < 1000',
      ),
    });
  }

  const projectRate = at('project', 'end-to-end.idsPerSecond');
  const baselineRate = at('baseline', 'end-to-end.idsPerSecond');
  row({
    scenario: 'end-to-end',
    label: `end-to-end ids/s (${show(num(report.settings.endToEndIds))} ids, ${show(num(report.settings.endToEndIdsPerCallback))} per callback)`,
    cell: (system) => {
      const rate = show(at(system, 'end-to-end.idsPerSecond'));
      if (lookup(report.results[system], 'end-to-end.complete') !== false) return rate;
      const [done, all] = isFloor(system) ? ['completed', 'idsPosted'] : ['rows', 'expectedRows'];
      return `${rate} (timed out: ${show(at(system, `end-to-end.${done}`))} of ${show(at(system, `end-to-end.${all}`))} ${done})`;
    },
    ratioPath: 'end-to-end.idsPerSecond',
    floorRatio: true,
    target: verdict(
      projectRate === undefined
        ? undefined
        : projectRate >= 500 && (baselineRate === undefined || projectRate >= baselineRate / 2),
      '≥ 500 and ≥ 0.5× baseline',
    ),
  });

  row({
    scenario: 'end-to-end',
    label: '  ids accepted (floor: started): ids/s',
    cell: (system) => {
      const [recorded, after] = isFloor(system)
        ? [at(system, 'end-to-end.started'), at(system, 'end-to-end.startedAllAfterS')]
        : [at(system, 'end-to-end.accepted'), at(system, 'end-to-end.acceptedAllAfterS')];
      return recorded === undefined || !after ? '–' : String(Math.round(recorded / after));
    },
  });

  for (const rate of ['1x', '10x', '50x']) {
    const scenario = `realistic-${rate}`;
    const p99 = at('project', `${scenario}.receiptToRow.p99`);
    const goal = MAX_UPSTREAM_LATENCY_MS + 1_000;
    row({
      scenario,
      label: `receipt-to-row ms p50/p99, ${rate}`,
      cell: (system) =>
        `${show(at(system, `${scenario}.receiptToRow.p50`))} / ${show(at(system, `${scenario}.receiptToRow.p99`))}`,
      ratioPath: `${scenario}.receiptToRow.p99`,
      target: verdict(p99 === undefined ? undefined : p99 <= goal, `p99 ≤ ${goal}`),
    });
    const timeouts = (system: System) =>
      ran(system, scenario) ? show(at(system, `${scenario}.acks.statuses.timeout`) ?? 0) : '–';
    row({
      scenario,
      label: `  ack ms p50/p99, ${rate}; not 2xx (timed out)`,
      cell: (system) =>
        `${show(at(system, `${scenario}.acks.p50`))} / ${show(at(system, `${scenario}.acks.p99`))}; ` +
        `${show(at(system, `${scenario}.acks.failed`))} of ${show(at(system, `${scenario}.acks.callbacks`))} (${timeouts(system)})`,
      ratioPath: `${scenario}.acks.p99`,
    });
  }

  for (const scenario of ['end-to-end', 'realistic-10x']) {
    for (const group of ['api', 'worker', 'server', 'postgres', 'total']) {
      const path = `${scenario}.cpuSecondsPerThousandIds.${group}`;
      // The floor's worker also sends the signal-with-starts, so only its server and total compare.
      row({
        scenario,
        label: `CPU s/1,000 ids, ${scenario}: ${group}`,
        cell: (system) => show(at(system, path)),
        ratioPath: path,
        floorRatio: group === 'server' || group === 'total',
      });
    }
    for (const group of ['api', 'worker', 'server']) {
      const path = `${scenario}.usage.groups.${group}.peakRssMb`;
      row({
        scenario,
        label: `peak RSS MB, ${scenario}: ${group}`,
        cell: (system) => show(at(system, path)),
        ratioPath: path,
      });
    }
    for (const group of ['api', 'worker', 'server']) {
      const cpu = `${scenario}.usage.groups.${group}.cpuSeconds`;
      const wait = `${scenario}.usage.groups.${group}.runQueueWaitSeconds`;
      row({
        scenario,
        label: `CPU s / s waiting for a core, ${scenario}: ${group}`,
        cell: (system) => `${show(at(system, cpu))} / ${show(at(system, wait))}`,
      });
    }
  }

  const scenarios = Object.keys(Object.assign({}, ...systems.map((system) => report.results[system] ?? {})));
  row({
    label: 'other load on the machine, cores (max of scenarios)',
    cell: (system) =>
      report.results[system] ? show(Math.max(...scenarios.map((name) => at(system, `${name}.otherCores`) ?? 0))) : '',
  });

  const floorName = (system: System) => {
    const senders = at(system, 'end-to-end.senders');
    return senders === undefined ? 'engine floor' : `floor, ${senders} senders`;
  };
  const header: Row = {
    label: 'metric',
    cells: Object.fromEntries(systems.map((system) => [system, isFloor(system) ? floorName(system) : system])),
    ratios: { baseline: 'project/baseline', floor: 'project/floor' },
    target: 'target (project)',
  };
  const columns: Array<(each: Row) => string> = [
    (each) => each.label,
    ...systems.map((system) => (each: Row) => each.cells[system] ?? ''),
    (each) => each.ratios.baseline,
    ...(bestFloor ? [(each: Row) => each.ratios.floor] : []),
  ];
  const all = [header, ...rows];
  const widths = columns.map((pick) => Math.max(...all.map((each) => pick(each).length)));
  const line = (each: Row) =>
    `| ${columns.map((pick, i) => pick(each).padEnd(widths[i] as number)).join(' | ')} | ${each.target} |`;
  const separator = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|---|`;
  const notes = [
    `server = Temporal dev server (project, engine floor) or RabbitMQ (baseline); worker = Temporal worker or queue consumer.`,
    ...(bestFloor
      ? [
          'engine floor = per id, a signal-with-start of a workflow that runs one no-op local activity and completes, on the same dev server; ' +
            'its worker and its senders run in one process (the bench), metered as worker; ids/s from the first start to the last completion; ' +
            `one fresh run per sender count. project/floor: against the faster run (${floorName(bestFloor)}).`,
        ]
      : []),
    `machine: ${JSON.stringify(report.machine)}`,
    `run took ${report.durationS} s${report.settings.quick ? ' (BENCH_QUICK)' : ''}`,
  ];
  return [line(header), separator, ...rows.map(line), '', ...notes, ...serverRequestLines(report)].join('\n');
}

/** Under BENCH_PROFILE=1: what the Temporal server did per 1,000 accepted (floor: started) ids, busiest first. */
function serverRequestLines(report: Report): string[] {
  const lines: string[] = [];
  const temporalResults = Object.keys(report.results)
    .filter((system) => system === 'project' || isFloor(system))
    .flatMap((system) =>
      Object.entries(report.results[system] ?? {}).map(
        ([scenario, result]) => [system === 'project' ? scenario : `${scenario} (${system})`, result] as const,
      ),
    );
  for (const [scenario, result] of temporalResults) {
    const requests = lookup(result, 'serverRequests') as
      Record<'rpc' | 'persistence' | 'persistenceSeconds', Record<string, number>> | undefined;
    const ids = num(lookup(result, 'ids'));
    if (!requests || !ids) continue;
    const perThousand = (counts: Record<string, number>) =>
      Object.entries(counts)
        .slice(0, 8)
        .map(([name, count]) => `${name} ${Math.round((1000 * count) / ids)}`)
        .join(', ');
    const total = (counts: Record<string, number>) =>
      Math.round((1000 * Object.values(counts).reduce((sum, count) => sum + count, 0)) / ids);
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
