// The body a webhook receives: dagflare's event envelope (`json`), or Slack's incoming-webhook
// body (`slack`: `{ text, blocks }`) made from it. docs/webhooks.md shows both.
import type { WebhookEventType } from "./events";

export const WEBHOOK_FORMATS = ["json", "slack"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** One event, as delivered; `id` stays the same across the attempts of its delivery. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  /** When it happened, ISO 8601. */
  time: string;
  data: RunEventData | RunnerEventData;
}

export interface RunEventData {
  dagName: string;
  dagRunId: string;
  /** The run's status (its label) when the event happened. */
  status: string;
  step?: { name: string; status: string; attempt: number; exitCode?: number | null; error?: string };
}

export interface RunnerEventData {
  runnerId: string;
  pool: string;
  labels: Record<string, string>;
}

export function newEvent(type: WebhookEventType, at: number, data: WebhookEvent["data"]): WebhookEvent {
  return { id: crypto.randomUUID(), type, time: new Date(at).toISOString(), data };
}

export function renderBody(event: WebhookEvent, format: WebhookFormat): string {
  if (format === "json") return JSON.stringify(event);
  const text = slackText(event);
  return JSON.stringify({ text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] });
}

const ICONS: Record<WebhookEventType, string> = {
  "dag.started": ":arrow_forward:",
  "dag.succeeded": ":white_check_mark:",
  "dag.failed": ":x:",
  "dag.cancelled": ":no_entry_sign:",
  "task.started": ":arrow_forward:",
  "task.succeeded": ":white_check_mark:",
  "task.failed": ":x:",
  "task.retrying": ":repeat:",
  "runner.online": ":large_green_circle:",
  "runner.offline": ":red_circle:",
};

/** One line a person reads in a channel. Names are in code spans, so they are never markup. */
function slackText(event: WebhookEvent): string {
  const icon = ICONS[event.type];
  const d = event.data;
  if ("runnerId" in d) {
    const what = event.type === "runner.online" ? "is online" : "went offline";
    return `${icon} runner ${code(d.runnerId)} (pool ${code(d.pool)}) ${what}`;
  }
  const run = `${code(d.dagName)} run ${code(d.dagRunId)}`;
  if (!d.step) return `${icon} DAG ${run} ${d.status.replaceAll("_", " ")}`;
  const s = d.step;
  const more = [`attempt ${s.attempt}`];
  if (s.exitCode !== undefined && s.exitCode !== null) more.push(`exit code ${s.exitCode}`);
  if (s.error) more.push(s.error);
  return `${icon} step ${code(s.name)} of ${run} ${s.status.replaceAll("_", " ")} (${more.join(", ")})`;
}

const code = (s: string) => `\`${s.replaceAll("`", "'")}\``;
