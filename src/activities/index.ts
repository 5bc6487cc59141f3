import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { ObjectServiceError, type ObjectServiceClient, type ObjectStatus } from './object-service';
import type { ObjectsRepository } from './objects-repository';

export interface ActivityDependencies {
  objectService: ObjectServiceClient;
  objects: ObjectsRepository;
  objectTtlSeconds: number;
}

export type PresenceActivities = ReturnType<typeof createActivities>;

export function createActivities({ objectService, objects, objectTtlSeconds }: ActivityDependencies) {
  return {
    async fetchObjectStatus(objectId: number): Promise<ObjectStatus> {
      try {
        return await objectService.fetchStatus(objectId, Context.current().cancellationSignal);
      } catch (error) {
        if (!(error instanceof ObjectServiceError)) throw error;
        throw ApplicationFailure.create({
          type: `ObjectService.${error.failure}`,
          message: error.message,
          nonRetryable: !error.retryable,
        });
      }
    },

    /** Writes a confirmed sighting, unless it already lies beyond the TTL. */
    async recordSighting(objectId: number, receivedAtMs: number): Promise<boolean> {
      // The cleanup would delete such a row at once; writing it would only break the promise
      // that no row is older than the TTL plus one cleanup interval.
      if (receivedAtMs <= Date.now() - objectTtlSeconds * 1000) {
        log.info('sighting expired before it was confirmed; not recorded', { objectId, receivedAtMs });
        return false;
      }
      return objects.recordSeen(objectId, new Date(receivedAtMs));
    },

    async deleteStaleObjects(ttlSeconds: number): Promise<number> {
      const deleted = await objects.deleteSeenBefore(new Date(Date.now() - ttlSeconds * 1000));
      // Exported with the SDK's metrics on the worker's Prometheus endpoint.
      Context.current().metricMeter.createCounter('presence_objects_deleted', 'objects', 'Objects deleted by the cleanup').add(deleted);
      if (deleted > 0) log.info('deleted stale objects', { deleted, ttlSeconds });
      return deleted;
    },
  };
}
