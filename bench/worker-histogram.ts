/**
 * One of the worker's own histograms, read from its Prometheus endpoint: cumulative counts by
 * upper bound, in the histogram's unit (seconds here).
 */
export type Histogram = Map<number, number>;

export async function readHistogram(metricsUrl: string, name: string): Promise<Histogram> {
  const text = await (await fetch(metricsUrl)).text();
  const sample = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`);
  const buckets: Histogram = new Map();
  for (const line of text.split('\n')) {
    const match = sample.exec(line);
    if (match) buckets.set(match[1] === '+Inf' ? Infinity : Number(match[1]), Number(match[2]));
  }
  return buckets;
}

/**
 * Quantiles of what was recorded between two readings, interpolated within a bucket as
 * Prometheus's histogram_quantile does (a quantile in the open-ended bucket is its lower bound),
 * in milliseconds; undefined when nothing was recorded, or when the worker restarted in between
 * (its counts began again).
 */
export function quantilesBetween(
  before: Histogram,
  after: Histogram,
  quantiles: readonly number[],
): Record<string, number> | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((bound) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0 || counts.some((count) => count < 0)) return undefined;
  const result: Record<string, number> = {};
  for (const quantile of quantiles) {
    const rank = quantile * total;
    const index = counts.findIndex((count) => count >= rank);
    const upper = bounds[index] as number;
    const lower = index > 0 ? (bounds[index - 1] as number) : 0;
    const below = index > 0 ? (counts[index - 1] as number) : 0;
    const inBucket = (counts[index] as number) - below;
    const seconds =
      upper === Infinity ? lower : lower + (upper - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1);
    result[`p${Math.round(quantile * 100)}`] = Math.round(seconds * 1000);
  }
  return result;
}
