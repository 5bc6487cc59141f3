import { defineSignal } from '@temporalio/workflow';

/** Payload: epoch milliseconds at which the API received a callback carrying the object id. */
export const sightedSignal = defineSignal<[receivedAtMs: number]>('sighted');

/** One workflow per object id, so a repeated id joins the check already under way. */
export const objectWorkflowId = (objectId: number): string => `object-${objectId}`;
