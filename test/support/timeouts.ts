/**
 * For a test whose load takes longer than npm test's 3 minutes a test (`--test-timeout`): it may
 * run as long as the engine needs, and its wait still ends a minute after it stops moving.
 */
export const LARGE_LOAD = { timeout: 600_000 };
