import { Agent, request } from 'undici';

/** The object service answers within 4.3 s; anything slower is treated as a failed attempt. */
export const OBJECT_SERVICE_TIMEOUT_MS = 5_000;

export interface ObjectStatus {
  id: number;
  online: boolean;
}

/**
 * Why a status request failed. Only `rejected` (a 4xx other than 408/429) is final; the others
 * describe a service that may well answer on the next attempt.
 */
export type ObjectServiceFailure = 'rejected' | 'unavailable' | 'bad_response' | 'unreachable';

export class ObjectServiceError extends Error {
  override name = 'ObjectServiceError';
  constructor(
    readonly failure: ObjectServiceFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return this.failure !== 'rejected';
  }
}

const TRANSIENT_CLIENT_STATUSES = new Set([408, 425, 429]);

export interface ObjectServiceClientOptions {
  timeoutMs?: number;
  /** Upper bound of open connections to the object service from this process. */
  connections?: number;
}

/** HTTP client for `GET {baseUrl}/objects/{id}` over kept-alive connections. */
export class ObjectServiceClient {
  private readonly agent: Agent;
  /** How long one request may take. */
  readonly timeoutMs: number;
  /** Requests this client has open at once at most; more wait for a connection. */
  readonly connections: number;

  constructor(
    private readonly baseUrl: string,
    options: ObjectServiceClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? OBJECT_SERVICE_TIMEOUT_MS;
    this.connections = options.connections ?? 256;
    this.agent = new Agent({ connections: this.connections, keepAliveTimeout: 30_000 });
  }

  async fetchStatus(objectId: number, cancellation?: AbortSignal): Promise<ObjectStatus> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = cancellation ? AbortSignal.any([cancellation, timeout]) : timeout;
    let response;
    try {
      response = await request(`${this.baseUrl}/objects/${objectId}`, {
        dispatcher: this.agent,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (error) {
      const reason = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : describe(error);
      throw new ObjectServiceError('unreachable', `object service unreachable for id ${objectId}: ${reason}`, {
        cause: error,
      });
    }

    let body: string;
    try {
      body = await response.body.text();
    } catch (error) {
      throw new ObjectServiceError(
        'unreachable',
        `object service broke off the answer for id ${objectId}: ${describe(error)}`,
        {
          cause: error,
        },
      );
    }

    const { statusCode } = response;
    if (statusCode >= 400 && statusCode < 500 && !TRANSIENT_CLIENT_STATUSES.has(statusCode)) {
      throw new ObjectServiceError(
        'rejected',
        `object service rejected id ${objectId}: ${statusCode} ${excerpt(body)}`,
      );
    }
    if (statusCode !== 200) {
      throw new ObjectServiceError(
        'unavailable',
        `object service answered ${statusCode} for id ${objectId}: ${excerpt(body)}`,
      );
    }
    return parseStatus(objectId, body);
  }

  /** Requests in flight, and those waiting for one of the `connections`. */
  load(): { inFlight: number; waiting: number } {
    let inFlight = 0;
    let waiting = 0;
    for (const stats of Object.values(this.agent.stats)) {
      inFlight += stats.running;
      waiting += stats.size - stats.running;
    }
    return { inFlight, waiting };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function parseStatus(objectId: number, body: string): ObjectStatus {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ObjectServiceError(
      'bad_response',
      `object service sent malformed JSON for id ${objectId}: ${excerpt(body)}`,
    );
  }
  const candidate = parsed as Partial<ObjectStatus> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.online !== 'boolean') {
    throw new ObjectServiceError(
      'bad_response',
      `object service sent no boolean "online" for id ${objectId}: ${excerpt(body)}`,
    );
  }
  if (candidate.id !== objectId) {
    throw new ObjectServiceError(
      'bad_response',
      `object service answered for id ${String(candidate.id)} when asked for ${objectId}`,
    );
  }
  return { id: objectId, online: candidate.online };
}

const excerpt = (body: string): string => JSON.stringify(body.length > 200 ? `${body.slice(0, 200)}…` : body);

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code ? `${code} ${error.message}` : error.message;
};
