import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (CLK_TCK; 100 on Linux). */
const TICKS_PER_SECOND = 100;

export interface ProcessSample {
  cpuSeconds: number;
  rssBytes: number;
  /** VmHWM: the highest RSS since the process started. */
  peakRssBytes: number;
}

/** CPU (user + system) and memory of one process, or undefined once it is gone. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces; the fields after it start with the state (field 3).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { cpuSeconds, rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** CPU seconds per thread of a process, keyed `tid name` (Node: main, workflow and Rust core threads). */
export function sampleThreads(pid: number): Map<string, number> {
  const threads = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(`${tid} ${name}`, (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    }
  } catch {
    // The process is gone.
  }
  return threads;
}

/**
 * Seconds the threads of a process were ready to run but waited for a core (schedstat), summed
 * over threads: high means CPU-starved, low with little CPU means blocked on I/O or locks.
 */
export function runQueueWaitSeconds(pid: number): number {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1] ?? 0) / 1e9;
    }
  } catch {
    // The process is gone.
  }
  return total;
}

/** CPU seconds all cores of the machine have been busy: whatever ran, ours or anyone else's. */
export function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (
    [user, nice, system, irq, softirq, steal].reduce<number>((sum, ticks) => sum + (ticks ?? 0), 0) / TICKS_PER_SECOND
  );
}

/** Pids whose command name is `name` (for a shared daemon such as RabbitMQ's beam.smp). */
export function pidsByName(name: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}

export interface ProcessGroup {
  name: string;
  /** The group's pids right now; PostgreSQL backends come and go with the pools. */
  pids: () => number[] | Promise<number[]>;
  /**
   * Started for this scenario: its VmHWM is the scenario's peak. For a shared, long-lived daemon
   * VmHWM covers its whole life, so only the sampled RSS counts.
   */
  fresh: boolean;
  /** RSS summed over many processes that share memory (PostgreSQL backends) means little. */
  skipRss?: boolean;
  /** Also break the CPU down by thread name: which part of a process burns it. */
  threads?: boolean;
}

export interface GroupUsage {
  cpuSeconds: number;
  peakRssMb?: number;
  /** CPU seconds by thread name, largest first. */
  threads?: Record<string, number>;
  /** Seconds its threads waited for a core (see runQueueWaitSeconds). */
  runQueueWaitSeconds?: number;
}

export interface Usage {
  seconds: number;
  groups: Record<string, GroupUsage>;
  /** Busy CPU seconds of the whole machine; what the groups do not account for ran beside the bench. */
  machineCpuSeconds: number;
  /** CPU % (100 = one core) of each group per sampling interval: the CPU profile over time. */
  timeline: Array<{ t: number } & Record<string, number>>;
}

/**
 * Measures the CPU seconds and peak RSS of process groups over a scenario. CPU is counted from
 * the first sample (a process that appears later counts from zero), so short-lived processes
 * seen at least once are included.
 */
export class ProcessMeter {
  private readonly startCpu = new Map<number, number>();
  private readonly lastCpu = new Map<string, Map<number, number>>();
  private readonly peakRss = new Map<string, number>();
  private readonly timeline: Usage['timeline'] = [];
  private readonly threadsAtStart = new Map<string, Map<string, number>>();
  private readonly waitAtStart = new Map<string, number>();
  private readonly startedAt = performance.now();
  private readonly machineAtStart = machineBusySeconds();
  private readonly timer: NodeJS.Timeout;
  private previous: Record<string, number> = {};
  private sampling: Promise<void> = Promise.resolve();

  private constructor(
    private readonly groups: ProcessGroup[],
    sampleMs: number,
  ) {
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample(true));
    }, sampleMs);
  }

  static async start(groups: ProcessGroup[], sampleMs = 1_000): Promise<ProcessMeter> {
    const meter = new ProcessMeter(groups, sampleMs);
    await meter.sample(false, true);
    for (const group of groups.filter((each) => each.threads))
      meter.threadsAtStart.set(group.name, await meter.threadsOf(group));
    for (const group of groups.filter((each) => each.fresh))
      meter.waitAtStart.set(group.name, await meter.waitOf(group));
    return meter;
  }

  private async waitOf(group: ProcessGroup): Promise<number> {
    return (await group.pids()).reduce((sum, pid) => sum + runQueueWaitSeconds(pid), 0);
  }

  private async threadsOf(group: ProcessGroup): Promise<Map<string, number>> {
    const all = new Map<string, number>();
    for (const pid of await group.pids())
      for (const [thread, cpu] of sampleThreads(pid)) all.set(`${pid} ${thread}`, cpu);
    return all;
  }

  /** Per thread name, since the start: thread ids differ between runs, names do not. */
  private async threadUsage(group: ProcessGroup): Promise<Record<string, number>> {
    const before = this.threadsAtStart.get(group.name) ?? new Map<string, number>();
    const byName = new Map<string, number>();
    for (const [key, cpu] of await this.threadsOf(group)) {
      const name = key.split(' ').slice(2).join(' ');
      byName.set(name, (byName.get(name) ?? 0) + cpu - (before.get(key) ?? 0));
    }
    return Object.fromEntries(
      [...byName]
        .filter(([, cpu]) => cpu >= 0.01)
        .sort((a, b) => b[1] - a[1])
        .map(([name, cpu]) => [name, round(cpu, 2)]),
    );
  }

  async stop(): Promise<Usage> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample(true);
    const groups: Record<string, GroupUsage> = {};
    for (const group of this.groups) {
      const peakRssMb = this.peakRss.get(group.name);
      groups[group.name] = {
        cpuSeconds: round(this.cpuOf(group.name), 2),
        ...(group.skipRss || peakRssMb === undefined ? {} : { peakRssMb: round(peakRssMb / 2 ** 20, 0) }),
        ...(group.threads ? { threads: await this.threadUsage(group) } : {}),
        ...(group.fresh
          ? { runQueueWaitSeconds: round((await this.waitOf(group)) - (this.waitAtStart.get(group.name) ?? 0), 2) }
          : {}),
      };
    }
    return {
      seconds: round((performance.now() - this.startedAt) / 1000, 1),
      groups,
      machineCpuSeconds: round(machineBusySeconds() - this.machineAtStart, 2),
      timeline: this.timeline,
    };
  }

  private cpuOf(group: string): number {
    let total = 0;
    for (const [pid, cpu] of this.lastCpu.get(group) ?? []) total += cpu - (this.startCpu.get(pid) ?? 0);
    return total;
  }

  private async sample(recordTimeline: boolean, first = false): Promise<void> {
    const point: { t: number } & Record<string, number> = { t: round((performance.now() - this.startedAt) / 1000, 1) };
    const elapsed = point.t - (this.timeline.at(-1)?.t ?? 0);
    const percentOf = (name: string, cpu: number) => {
      if (recordTimeline)
        point[name] = elapsed > 0 ? round((100 * (cpu - (this.previous[name] ?? 0))) / elapsed, 0) : 0;
      this.previous[name] = cpu;
    };
    percentOf('machine', machineBusySeconds() - this.machineAtStart);
    for (const group of this.groups) {
      const last = this.lastCpu.get(group.name) ?? new Map<number, number>();
      this.lastCpu.set(group.name, last);
      let rss = 0;
      for (const pid of await group.pids()) {
        const sample = sampleProcess(pid);
        if (!sample) continue;
        if (first) this.startCpu.set(pid, sample.cpuSeconds);
        last.set(pid, sample.cpuSeconds);
        rss += group.fresh ? sample.peakRssBytes : sample.rssBytes;
      }
      this.peakRss.set(group.name, Math.max(this.peakRss.get(group.name) ?? 0, rss));
      percentOf(group.name, this.cpuOf(group.name));
    }
    if (recordTimeline) this.timeline.push(point);
  }
}

export const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Waits (at most `maxWaitS`) until the machine has been nearly idle for a few seconds, so that a
 * scenario does not start in the middle of someone else's burst; returns the busy cores seen last.
 */
export async function waitForQuietMachine(maxWaitS: number, idleBelowCores = 0.3, windowS = 3): Promise<number> {
  const deadline = performance.now() + maxWaitS * 1000;
  for (;;) {
    const before = machineBusySeconds();
    await new Promise((resolve) => setTimeout(resolve, windowS * 1000));
    const busyCores = (machineBusySeconds() - before) / windowS;
    if (busyCores < idleBelowCores || performance.now() > deadline) return round(busyCores, 2);
  }
}
