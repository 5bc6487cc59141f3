export { AdaptiveConcurrency } from './adaptive-concurrency';
export { createHandOut } from './hand-out';
export { createObjectActivities, type ObjectActivityMetrics, type WorkerSightings } from './object-activities';
export { ObjectServiceClient, ObjectServiceError } from './object-service';
export { SightingDispatcher, type HandOutBacklog, type HandOutOutcome } from './sighting-dispatcher';
export { createSightingSignal } from './sighting-signal';
