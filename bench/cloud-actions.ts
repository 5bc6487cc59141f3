import { Client, Connection } from '@temporalio/client';

export interface CloudActions {
  workflows: number;
  signals: number;
  activities: number;
  localActivities: number;
  timers: number;
  total: number;
}

/**
 * Temporal Cloud actions the histories on a server add up to, by kind: what this load would be
 * billed on Temporal Cloud. Counted from events: a workflow start (continue-as-new included), a
 * signal (a signal-with-start shows as a start and a signal, which is what it is billed as), an
 * activity attempt, a local activity (one marker per execution), a timer. Activity heartbeats
 * are actions too but leave no event: not counted, so this is a lower bound.
 */
export async function cloudActionsFromHistories(
  address: string,
  counts: (execution: { workflowId: string; type: string }) => boolean = () => true,
): Promise<CloudActions> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const actions = { workflows: 0, signals: 0, activities: 0, localActivities: 0, timers: 0 };
  try {
    for await (const execution of client.workflow.list()) {
      if (!counts(execution)) continue;
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      for (const event of history.events ?? []) {
        if (event.workflowExecutionStartedEventAttributes) actions.workflows += 1;
        else if (event.workflowExecutionSignaledEventAttributes) actions.signals += 1;
        // One event per activity, written when it ends; its attempt says how many tries it took.
        else if (event.activityTaskStartedEventAttributes)
          actions.activities += event.activityTaskStartedEventAttributes.attempt ?? 1;
        // Patch markers are recorded too, and are no action.
        else if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity')
          actions.localActivities += 1;
        else if (event.timerStartedEventAttributes) actions.timers += 1;
      }
    }
  } finally {
    await connection.close();
  }
  return { ...actions, total: Object.values(actions).reduce((sum, count) => sum + count, 0) };
}
