// The events a webhook can subscribe to, the patterns that name them, and which webhooks an
// event goes to. Pure: the RunObject, the dispatcher and the routes share it.

export const WEBHOOK_EVENTS = [
  "dag.started",
  "dag.succeeded",
  "dag.failed",
  "dag.cancelled",
  "task.started",
  "task.succeeded",
  "task.failed",
  "task.retrying",
  "runner.online",
  "runner.offline",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** `*`, a family (`task.*`, `dag.*`, `runner.*`) or one event's name. */
export const EVENT_PATTERNS: readonly string[] = ["*", "dag.*", "task.*", "runner.*", ...WEBHOOK_EVENTS];

export const isEventPattern = (p: string): boolean => EVENT_PATTERNS.includes(p);

/** What a webhook delivers: the events it names, narrowed by DAG and step names (globs with `*`). */
export interface WebhookSubscription {
  id: string;
  events: string[];
  filters: WebhookFilters;
}

export interface WebhookFilters {
  dagNames?: string[];
  stepNames?: string[];
}

/** What a filter may be matched against: the event's DAG and step, when it has them. */
export interface EventSubject {
  type: WebhookEventType;
  dagName?: string;
  stepName?: string;
}

export function eventMatches(pattern: string, type: WebhookEventType): boolean {
  if (pattern === "*" || pattern === type) return true;
  return pattern.endsWith(".*") && type.startsWith(pattern.slice(0, -1));
}

/** A name glob: `*` stands for any run of characters, everything else for itself. */
export function globMatches(glob: string, name: string): boolean {
  const source = glob
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`).test(name);
}

/**
 * Whether a webhook takes an event. A filter narrows only the events that have what it names:
 * `dagNames` applies to dag.* and task.* events, `stepNames` to task.* events; runner events
 * pass both.
 */
export function subscribed(hook: WebhookSubscription, subject: EventSubject): boolean {
  if (!hook.events.some((p) => eventMatches(p, subject.type))) return false;
  const { dagNames, stepNames } = hook.filters;
  if (dagNames?.length && subject.dagName !== undefined && !dagNames.some((g) => globMatches(g, subject.dagName ?? "")))
    return false;
  if (
    stepNames?.length &&
    subject.stepName !== undefined &&
    !stepNames.some((g) => globMatches(g, subject.stepName ?? ""))
  )
    return false;
  return true;
}
