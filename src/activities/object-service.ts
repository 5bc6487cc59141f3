import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';

/** The object service answers within 4.3 s; anything slower is treated as a failed attempt. */
export const OBJECT_SERVICE_TIMEOUT_MS = 5_000;

/** A real answer is about 30 bytes; longer bodies are refused unread, so memory stays bounded. */
export const OBJECT_SERVICE_MAX_BODY_BYTES = 4 * 1024;

export interface ObjectStatus {
  id: number;
  online: boolean;
}

/** Only `rejected` (a 4xx other than 408/425/429) is final; the others may well pass on the next attempt. */
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

/** HTTP client for `GET {baseUrl}/objects/{id}` over kept-alive connections. */
export class ObjectServiceClient {
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(
    private readonly baseUrl: string,
    /** `connections`: requests open at once at most; more wait for one. */
    options: { timeoutMs?: number; connections?: number } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? OBJECT_SERVICE_TIMEOUT_MS;
    this.agent = new Agent({ connections: options.connections ?? 256, keepAliveTimeout: 30_000 });
  }

  async fetchStatus(objectId: number, cancellation?: AbortSignal): Promise<ObjectStatus> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const fail = (failure: ObjectServiceFailure, what: string, cause?: unknown) =>
      new ObjectServiceError(failure, `object service ${what}`, { cause });
    let statusCode: number;
    let body: string | undefined;
    try {
      const response = await request(`${this.baseUrl}/objects/${objectId}`, {
        dispatcher: this.agent,
        signal: cancellation ? AbortSignal.any([cancellation, timeout]) : timeout,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      statusCode = response.statusCode;
      body = await readCapped(response.body, response.headers['content-length']);
    } catch (error) {
      const reason = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : describe(error);
      throw fail('unreachable', `unreachable for id ${objectId}: ${reason}`, error);
    }
    if (statusCode >= 400 && statusCode < 500 && !TRANSIENT_CLIENT_STATUSES.has(statusCode)) {
      throw fail('rejected', `rejected id ${objectId}: ${statusCode} ${excerpt(body)}`);
    }
    if (statusCode !== 200) throw fail('unavailable', `answered ${statusCode} for id ${objectId}: ${excerpt(body)}`);
    if (body === undefined) {
      throw fail('bad_response', `sent a body over ${OBJECT_SERVICE_MAX_BODY_BYTES} bytes for id ${objectId}`);
    }
    let parsed: Partial<ObjectStatus> | null;
    try {
      parsed = JSON.parse(body) as Partial<ObjectStatus> | null;
    } catch {
      throw fail('bad_response', `sent malformed JSON for id ${objectId}: ${excerpt(body)}`);
    }
    if (typeof parsed?.online !== 'boolean') {
      throw fail('bad_response', `sent no boolean "online" for id ${objectId}: ${excerpt(body)}`);
    }
    if (parsed.id !== objectId) {
      throw fail('bad_response', `answered for id ${String(parsed.id)} when asked for ${objectId}`);
    }
    return { id: objectId, online: parsed.online };
  }

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

/** The body, or undefined past the cap; destroying the body closes the connection instead of draining it. */
async function readCapped(body: Readable, declaredLength: unknown): Promise<string | undefined> {
  if (Number(declaredLength) > OBJECT_SERVICE_MAX_BODY_BYTES) {
    body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    length += chunk.length;
    // Leaving the loop destroys the body (the stream's async iterator does on return).
    if (length > OBJECT_SERVICE_MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const excerpt = (body: string | undefined): string =>
  body === undefined
    ? `(a body over ${OBJECT_SERVICE_MAX_BODY_BYTES} bytes, not kept)`
    : JSON.stringify(body.length > 200 ? `${body.slice(0, 200)}…` : body);

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  return code ? `${code} ${error.message}` : error.message;
};
