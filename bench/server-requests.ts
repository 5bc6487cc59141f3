/**
 * Requests the Temporal dev server handled, from its Prometheus endpoint (`--metrics-port`):
 * what each id costs it, by gRPC method and by persistence (SQLite) operation.
 */
export interface ServerRequests {
  /** `service.Method` (frontend, history, matching) → calls. */
  rpc: Record<string, number>;
  /** `service.Operation` → persistence calls, each one a statement or transaction on SQLite. */
  persistence: Record<string, number>;
  /**
   * `service.Operation` → seconds spent in those calls, waiting included: far above the server's
   * CPU time when the calls queue for SQLite's one connection.
   */
  persistenceSeconds: Record<string, number>;
}

const SAMPLE = /^(service_requests|persistence_requests|persistence_latency_sum)\{([^}]*)\} (\S+)$/;
const COUNTS_BY_METRIC = {
  service_requests: 'rpc',
  persistence_requests: 'persistence',
  persistence_latency_sum: 'persistenceSeconds',
} as const;

export async function readServerRequests(metricsUrl: string): Promise<ServerRequests> {
  const text = await (await fetch(metricsUrl)).text();
  const requests: ServerRequests = { rpc: {}, persistence: {}, persistenceSeconds: {} };
  for (const line of text.split('\n')) {
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, metric, labels = '', value] = match;
    const label = (name: string) => new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1] ?? '?';
    const key = `${label('service_name')}.${label('operation')}`;
    const counts = requests[COUNTS_BY_METRIC[metric as keyof typeof COUNTS_BY_METRIC]];
    counts[key] = (counts[key] ?? 0) + Number(value);
  }
  return requests;
}

/** What the server handled between two readings, the busiest first. */
export function requestsBetween(before: ServerRequests, after: ServerRequests): ServerRequests {
  const delta = (from: Record<string, number>, to: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(to)
        .map(([key, count]) => [key, count - (from[key] ?? 0)] as const)
        .filter(([, count]) => count > 0)
        .sort(([, a], [, b]) => b - a),
    );
  return {
    rpc: delta(before.rpc, after.rpc),
    persistence: delta(before.persistence, after.persistence),
    persistenceSeconds: delta(before.persistenceSeconds, after.persistenceSeconds),
  };
}
