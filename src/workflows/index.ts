export { callbackWorkflow, type AcceptedCallback, type CallbackInput } from './callback';
export { objectPresenceWorkflow, type ObjectPresenceInput } from './object-presence';
export { cleanupWorkflow } from './cleanup';
export { checkStateQuery, checkTaskQueue, objectWorkflowId, sightedSignal, type ObjectCheckState } from './sighting';
export type { CheckOutcome, HandOutResult, PresenceActivities } from './contracts';
