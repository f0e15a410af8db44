/** Reading figures out of a workflow's event history (server-side timestamps, so no client clock skew). */
import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type Event = temporal.api.history.v1.IHistoryEvent;
const T = temporal.api.enums.v1.EventType;

function ms(e: Event): number {
  const t = e.eventTime!;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

/**
 * Time of each state transition, in ms: one transition per workflow task (the workflow wakes, decides,
 * commands its next step), from the end of the previous one (or the start) to the end of this one,
 * less the time the workflow slept in timers in between. Timers are the monitoring and baseline
 * windows — simulated work — and the dev server fires them on a ~1 s tick, which is Temporal's cost
 * and the same in the floor; both are taken out.
 */
export function transitionTimes(history: History): number[] {
  const events = history.events ?? [];
  const out: number[] = [];
  let from: number | undefined;
  let timerStarted: number | undefined;
  let sleeping = 0;
  for (const e of events) {
    switch (e.eventType) {
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        from = ms(e);
        break;
      case T.EVENT_TYPE_TIMER_STARTED:
        timerStarted = ms(e);
        break;
      case T.EVENT_TYPE_TIMER_FIRED:
      case T.EVENT_TYPE_TIMER_CANCELED:
        if (timerStarted !== undefined) sleeping += ms(e) - timerStarted;
        timerStarted = undefined;
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        if (from !== undefined) out.push(ms(e) - from - sleeping);
        from = ms(e);
        sleeping = 0;
        break;
    }
  }
  return out;
}

/**
 * Orchestration overhead of each transition, in ms: its time (as `transitionTimes`) less the time the
 * activities it waited for spent executing on the worker (started → completed, overlapping ones counted
 * once). What is left is Temporal's and the workflow's own share: recording events, dispatching tasks,
 * running the workflow code.
 */
export function orchestrationTimes(history: History): number[] {
  const out: number[] = [];
  const started = new Map<string, number>();
  let running: Array<[number, number]> = [];
  const transitions = transitionTimes(history);
  for (const e of history.events ?? []) {
    switch (e.eventType) {
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        started.set(String(e.eventId), ms(e));
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case T.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case T.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const attrs = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskCanceledEventAttributes;
        const from = started.get(String(attrs?.startedEventId));
        if (from !== undefined) running.push([from, ms(e)]);
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        if (out.length < transitions.length) out.push(transitions[out.length] - unionMs(running));
        running = [];
        break;
    }
  }
  return out;
}

function unionMs(intervals: Array<[number, number]>): number {
  let total = 0;
  let end = -Infinity;
  for (const [from, to] of [...intervals].sort((x, y) => x[0] - y[0])) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

/** Total time the workflow spent in timers, in ms. */
export function timerTime(history: History): number {
  let total = 0;
  let started: number | undefined;
  for (const e of history.events ?? []) {
    if (e.eventType === T.EVENT_TYPE_TIMER_STARTED) started = ms(e);
    if ((e.eventType === T.EVENT_TYPE_TIMER_FIRED || e.eventType === T.EVENT_TYPE_TIMER_CANCELED) && started !== undefined) {
      total += ms(e) - started;
      started = undefined;
    }
  }
  return total;
}

/** Size of the history as the server stores and sends it (protobuf bytes). */
export function historyBytes(history: History): number {
  return temporal.api.history.v1.History.encode(history).finish().length;
}

/** The largest events by their protobuf size, e.g. "ACTIVITY_TASK_COMPLETED 41 kB". */
export function largestEvents(history: History, n = 3): Array<{ type: string; bytes: number }> {
  return (history.events ?? [])
    .map((e) => ({
      type: (T[e.eventType ?? 0] ?? String(e.eventType)).replace('EVENT_TYPE_', ''),
      bytes: temporal.api.history.v1.HistoryEvent.encode(e).finish().length,
    }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, n);
}

/**
 * The workflow's steps in order, one per workflow task that scheduled something: how many activities
 * (run in parallel when more than one) and timers it started. The floor replays this shape.
 */
export function stepShape(history: History): Array<{ a: number; t: number }> {
  const steps: Array<{ a: number; t: number }> = [];
  let current = { a: 0, t: 0 };
  for (const e of history.events ?? []) {
    if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) current.a++;
    if (e.eventType === T.EVENT_TYPE_TIMER_STARTED) current.t++;
    if (e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && (current.a || current.t)) {
      // Commands of a task are recorded right after its completion; close the group at the next one.
      steps.push(current);
      current = { a: 0, t: 0 };
    }
  }
  if (current.a || current.t) steps.push(current);
  return steps;
}

/** Time from scheduling to completion of every activity named `name`, summed, in ms. */
export function activityTime(history: History, name: string): number {
  const scheduled = new Map<string, { name: string; at: number }>();
  let total = 0;
  for (const e of history.events ?? []) {
    if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      scheduled.set(String(e.eventId), { name: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '', at: ms(e) });
    }
    if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const s = scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
      if (s && s.name === name) total += ms(e) - s.at;
    }
  }
  return total;
}

/**
 * Where a run's time goes: activities running on the worker (started → completed, overlapping ones
 * counted once), workflow tasks running on the worker (started → completed); the rest of the run is
 * the server recording events and dispatching tasks.
 */
export function transitionBreakdown(history: History): { activityMs: number; workflowTaskMs: number } {
  const activities: Array<[number, number]> = [];
  const started = new Map<string, number>();
  let workflowTaskMs = 0;
  let taskStarted: number | undefined;
  for (const e of history.events ?? []) {
    switch (e.eventType) {
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        started.set(String(e.eventId), ms(e));
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const from = started.get(String(e.activityTaskCompletedEventAttributes?.startedEventId));
        if (from !== undefined) activities.push([from, ms(e)]);
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        taskStarted = ms(e);
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        if (taskStarted !== undefined) workflowTaskMs += ms(e) - taskStarted;
        break;
    }
  }
  return { activityMs: unionMs(activities), workflowTaskMs };
}
