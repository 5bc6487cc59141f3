export interface CallbackSenderOptions {
  callbackUrl: string;
  intervalMs?: number;
  maxIdsPerCallback?: number;
  /** Ids are drawn from [0, idRange). */
  idRange?: number;
  timeoutMs?: number;
  /** Sent as "Authorization: Bearer <token>", for an API with CALLBACK_TOKEN set. */
  token?: string;
  onResult?: (result: CallbackResult) => void;
}

export interface CallbackResult {
  ids: number;
  ok: boolean;
  status?: number;
  latencyMs: number;
  error?: string;
}

/** Posts callbacks like the upstream sender of docs/contract.md: random ids, a 1 s client timeout, no retries. */
export async function sendCallback(
  callbackUrl: string,
  objectIds: number[],
  timeoutMs = 1_000,
  token?: string,
): Promise<CallbackResult> {
  const started = performance.now();
  try {
    const response = await fetch(callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ object_ids: objectIds }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    const latencyMs = performance.now() - started;
    return {
      ids: objectIds.length,
      ok: response.ok,
      status: response.status,
      latencyMs,
      ...(response.ok ? {} : { error: body }),
    };
  } catch (error) {
    return {
      ids: objectIds.length,
      ok: false,
      latencyMs: performance.now() - started,
      error: (error as Error).message,
    };
  }
}

export function randomIds(maxCount: number, idRange: number): number[] {
  const count = 1 + Math.floor(Math.random() * maxCount);
  return Array.from({ length: count }, () => Math.floor(Math.random() * idRange));
}

/** Sends a callback every interval until stopped. */
export function startCallbackSender(options: CallbackSenderOptions): { stop(): void } {
  const {
    callbackUrl,
    intervalMs = 5_000,
    maxIdsPerCallback = 200,
    idRange = 100,
    timeoutMs = 1_000,
    token,
    onResult,
  } = options;
  const tick = () => {
    void sendCallback(callbackUrl, randomIds(maxIdsPerCallback, idRange), timeoutMs, token).then(onResult);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return { stop: () => clearInterval(timer) };
}
