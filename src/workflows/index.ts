export { objectPresenceWorkflow, type ObjectPresenceInput } from './object-presence';
export { cleanupWorkflow } from './cleanup';
export { sightedSignal, objectWorkflowId } from './sighting';
