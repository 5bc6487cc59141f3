/**
 * How far apart the clocks that stamp this service's times may be: the APIs' (receipt times), the
 * workers' (when a status request went out), the database's (the TTL) and the Temporal server's
 * (a workflow's now). Two stamps from different clocks are ordered only when further apart.
 */
export const CLOCK_SKEW_MS = 2_000;
