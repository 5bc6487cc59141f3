/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  description: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${description}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Polls `remaining` until it is 0, or until it has not fallen for `stallMs`: a large load may take
 * as long as it keeps moving, and a hang ends the wait within a minute. Returns the last count.
 */
export async function drain(remaining: () => Promise<number>, stallMs = 60_000): Promise<number> {
  let last = await remaining();
  let movedAt = Date.now();
  while (last > 0 && Date.now() - movedAt < stallMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await remaining();
    if (now < last) movedAt = Date.now();
    last = now;
  }
  return last;
}
