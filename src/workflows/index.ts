export { callbackWorkflow, type AcceptedCallback, type CallbackInput } from './callback';
export { nextCheckAtMs, type CheckInterval } from './check-interval';
export { CLOCK_SKEW_MS } from './clock-skew';
export { objectPresenceWorkflow, type ObjectMemory, type ObjectPresenceInput } from './object-presence';
export { cleanupWorkflow } from './cleanup';
export { checkStateQuery, objectWorkflowId, sightedSignal, type ObjectCheckState } from './sighting';
export type { CheckOutcome, CheckResult, HandOutResult, PresenceActivities } from './contracts';
