import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** Actions by kind; `total` adds up every kind but `signalWithStartRuns`, which is a share of `signals`. */
export interface CloudActions {
  /** Workflow runs counted: not an action. */
  runs: number;
  /** Starts: by a client, by continue-as-new, by a Schedule. */
  workflows: number;
  /** Signals and signal-with-starts, one each, whether or not a signal-with-start started a run. */
  signals: number;
  /** Of `signals`: the signal-with-starts that started a run. */
  signalWithStartRuns: number;
  /** Activity attempts. */
  activities: number;
  /** Activity heartbeats that reached the server, as the SDK's throttle lets them through. */
  heartbeats: number;
  /** Workflow tasks that recorded local activities: one each, however many they recorded. */
  localActivities: number;
  /** Workflow tasks completed only to keep a long local activity's task alive. */
  workflowTaskHeartbeats: number;
  timers: number;
  /** A Schedule's own actions for each run it started, beyond the run's start. */
  schedules: number;
  total: number;
}

// Temporal Cloud's rules, https://docs.temporal.io/cloud/actions: "one total action occurs for
// any Signal-With-Start, regardless of whether the Workflow starts"; a Heartbeat "counts as an
// Action only if it reaches the Temporal Server" (SDKs throttle them to 80 % of the heartbeat
// timeout); "All Local Activities associated with one Workflow Task count as a single Action",
// and "Each additional Workflow Task heartbeat" one more; "Each execution of a Schedule accrues
// three actions", two of them beyond the start. Heartbeats leave no event, so they are estimated
// (the cost report sets them beside the dev server's RecordActivityTaskHeartbeat requests). The
// dev server's own `action` metric is no substitute: it counts the Schedule's internal workflow,
// not its published three, and no workflow-task heartbeats.

/**
 * The TypeScript SDK sends an attempt's first heartbeat at once, then at most one per throttle
 * window, 80 % of the heartbeat timeout capped at 60 s (the worker's maxHeartbeatThrottleInterval).
 */
const throttleMs = (heartbeatTimeoutMs: number) => Math.min(0.8 * heartbeatTimeoutMs, 60_000);

const ms = (event: HistoryEvent | undefined) => optionalTsToMs(event?.eventTime) ?? 0;

/** Events a workflow task's own commands write; any other event between two tasks is input that called for the second. */
const isCommandEvent = (event: HistoryEvent) =>
  Boolean(
    event.markerRecordedEventAttributes ??
    event.timerStartedEventAttributes ??
    event.timerCanceledEventAttributes ??
    event.activityTaskScheduledEventAttributes ??
    event.activityTaskCancelRequestedEventAttributes ??
    event.upsertWorkflowSearchAttributesEventAttributes ??
    event.workflowPropertiesModifiedEventAttributes,
  );

/** Adds one run's actions to `actions`. */
function countHistory(events: HistoryEvent[], actions: Omit<CloudActions, 'total'>): void {
  actions.runs += 1;
  // Activities this project heartbeats are the ones with a heartbeat timeout (the hand-out).
  const heartbeatThrottleMs = new Map<string, number>();
  const startedAtMs = new Map<string, number>();
  const localActivityTasks = new Set<string>();
  let afterCompletedTask = false;
  let inputSinceCompletedTask = false;
  for (const [index, event] of events.entries()) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      // A signal-with-start that starts the run records its signal before the first workflow task
      // is scheduled, which a client start does at once: start and signal are one action.
      if (index === 0 && events[1]?.workflowExecutionSignaledEventAttributes) actions.signalWithStartRuns += 1;
      else actions.workflows += 1;
      if (started.searchAttributes?.indexedFields?.TemporalScheduledById) actions.schedules += 2;
    } else if (event.workflowExecutionSignaledEventAttributes) actions.signals += 1;
    else if (event.activityTaskScheduledEventAttributes) {
      const timeoutMs = optionalTsToMs(event.activityTaskScheduledEventAttributes.heartbeatTimeout) ?? 0;
      if (timeoutMs > 0) heartbeatThrottleMs.set(String(event.eventId), throttleMs(timeoutMs));
    } else if (event.activityTaskStartedEventAttributes) {
      // One event per activity, written when it ends; its attempt says how many tries it took.
      const { attempt, scheduledEventId } = event.activityTaskStartedEventAttributes;
      actions.activities += attempt ?? 1;
      // At least the first heartbeat of each attempt; the earlier attempts' lengths are not recorded.
      if (heartbeatThrottleMs.has(String(scheduledEventId))) actions.heartbeats += attempt ?? 1;
      startedAtMs.set(String(event.eventId), ms(event));
    } else if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity') {
      // Patch markers are recorded too, and are no action.
      localActivityTasks.add(String(event.markerRecordedEventAttributes.workflowTaskCompletedEventId));
    } else if (event.timerStartedEventAttributes) actions.timers += 1;

    // The last attempt's later heartbeats: one per full throttle window it ran.
    const closed =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    const windowMs = closed && heartbeatThrottleMs.get(String(closed.scheduledEventId));
    if (closed && windowMs) {
      const ranMs = ms(event) - (startedAtMs.get(String(closed.startedEventId)) ?? ms(event));
      actions.heartbeats += Math.floor(ranMs / windowMs);
    }

    // A task scheduled straight after the last one completed, with no input in between: the SDK
    // asked for it to keep a local activity running past 80 % of the task timeout.
    if (event.workflowTaskCompletedEventAttributes) {
      afterCompletedTask = true;
      inputSinceCompletedTask = false;
    } else if (event.workflowTaskScheduledEventAttributes) {
      if (afterCompletedTask && !inputSinceCompletedTask) actions.workflowTaskHeartbeats += 1;
      afterCompletedTask = false;
    } else if (!isCommandEvent(event)) inputSinceCompletedTask = true;
  }
  actions.localActivities += localActivityTasks.size;
}

/**
 * Temporal Cloud actions the histories on a server add up to, by kind: what this load would be
 * billed on Temporal Cloud, by the rules above. Queries, updates, child workflows and search
 * attribute upserts would be actions too; this project's workflows make none.
 */
export async function cloudActionsFromHistories(
  address: string,
  counts: (execution: { workflowId: string; type: string }) => boolean = () => true,
): Promise<CloudActions> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const actions = {
    runs: 0,
    workflows: 0,
    signals: 0,
    signalWithStartRuns: 0,
    activities: 0,
    heartbeats: 0,
    localActivities: 0,
    workflowTaskHeartbeats: 0,
    timers: 0,
    schedules: 0,
  };
  try {
    for await (const execution of client.workflow.list()) {
      if (!counts(execution)) continue;
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      countHistory(history.events ?? [], actions);
    }
  } finally {
    await connection.close();
  }
  const { workflows, signals, activities, heartbeats, localActivities, workflowTaskHeartbeats, timers, schedules } =
    actions;
  const total =
    workflows + signals + activities + heartbeats + localActivities + workflowTaskHeartbeats + timers + schedules;
  return { ...actions, total };
}
