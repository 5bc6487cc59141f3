export { createHandOut } from './hand-out';
export { createObjectActivities, type ObjectActivityMetrics } from './object-activities';
export { ObjectServiceClient, ObjectServiceError } from './object-service';
export { SightingDispatcher, type HandOutBacklog } from './sighting-dispatcher';
export { createSightingSignal } from './sighting-signal';
