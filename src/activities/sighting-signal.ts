import type { Client } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import { objectPresenceWorkflow, objectWorkflowId, sightedSignal, type CheckInterval } from '../workflows';

export interface SightingSignalOptions {
  client: Client;
  taskQueue: string;
  /** Set on each object workflow it starts; unset when the namespace lacks it, as a start would fail forever. */
  objectIdSearchAttribute?: SearchAttributeKey<typeof SearchAttributeType.INT>;
  /** Sent with every sighting: the object's workflow follows the interval of its latest one. */
  interval?: CheckInterval;
}

/** Signals a sighting into its object's workflow, starting the workflow if none runs. */
export function createSightingSignal({ client, taskQueue, objectIdSearchAttribute, interval }: SightingSignalOptions) {
  return (objectId: number, receivedAtMs: number) =>
    client.workflow.signalWithStart(objectPresenceWorkflow, {
      workflowId: objectWorkflowId(objectId),
      taskQueue,
      args: [{ objectId }],
      staticSummary: `Object ${objectId}`,
      // Only a start applies it; continue-as-new carries it into the object's next runs.
      typedSearchAttributes: objectIdSearchAttribute && [{ key: objectIdSearchAttribute, value: objectId }],
      signal: sightedSignal,
      signalArgs: [receivedAtMs, interval],
    });
}
