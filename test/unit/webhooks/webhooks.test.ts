// The pure parts of outgoing webhooks: which webhook takes an event, what a receiver gets and
// how it checks the signature, and when a failed delivery is tried again.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { subscribed, type WebhookSubscription } from "../../../src/webhooks/events";
import { MAX_ATTEMPTS, MAX_DELIVERY_AGE_MS, MAX_RETRY_DELAY_MS } from "../../../src/webhooks/limits";
import { newEvent, renderBody } from "../../../src/webhooks/payload";
import { nextAttemptAt, retryDelayMs } from "../../../src/webhooks/retries";
import { signature } from "../../../src/webhooks/sign";

const hook = (events: string[], filters: WebhookSubscription["filters"] = {}): WebhookSubscription => ({
  id: "wh_1",
  events,
  filters,
});

describe("which webhooks take an event", () => {
  it.each([
    [["*"], "runner.online", true],
    [["task.*"], "task.retrying", true],
    [["task.*"], "dag.failed", false],
    [["dag.failed"], "dag.failed", true],
    [["dag.failed"], "dag.succeeded", false],
  ] as const)("%j takes %s: %s", (events, type, taken) => {
    expect(subscribed(hook([...events]), { type, dagName: "d", stepName: "s" })).toBe(taken);
  });

  it("narrows task events by DAG and step name globs", () => {
    const h = hook(["*"], { dagNames: ["etl-*"], stepNames: ["load"] });
    expect(subscribed(h, { type: "task.failed", dagName: "etl-daily", stepName: "load" })).toBe(true);
    expect(subscribed(h, { type: "task.failed", dagName: "etl-daily", stepName: "extract" })).toBe(false);
    expect(subscribed(h, { type: "task.failed", dagName: "billing", stepName: "load" })).toBe(false);
  });

  it("lets dag events through a step filter and runner events through both", () => {
    const h = hook(["*"], { dagNames: ["etl"], stepNames: ["load"] });
    expect(subscribed(h, { type: "dag.failed", dagName: "etl" })).toBe(true);
    expect(subscribed(h, { type: "runner.offline" })).toBe(true);
  });

  it("reads a glob's other characters literally", () => {
    expect(subscribed(hook(["*"], { dagNames: ["a.b"] }), { type: "dag.failed", dagName: "axb" })).toBe(false);
  });
});

describe("a delivery's body and signature", () => {
  const event = newEvent("task.failed", Date.UTC(2026, 0, 2, 3, 4, 5), {
    dagName: "etl",
    dagRunId: "r1",
    status: "running",
    step: { name: "load", status: "failed", attempt: 2, exitCode: 3 },
  });

  it("is dagflare's event as JSON in the json format", () => {
    expect(JSON.parse(renderBody(event, "json"))).toEqual({
      id: event.id,
      type: "task.failed",
      time: "2026-01-02T03:04:05.000Z",
      data: event.data,
    });
  });

  it("is Slack's incoming-webhook body with one readable line in the slack format", () => {
    const body = JSON.parse(renderBody(event, "slack"));
    expect(body.text).toBe(":x: step `load` of `etl` run `r1` failed (attempt 2, exit code 3)");
    expect(body.blocks).toEqual([{ type: "section", text: { type: "mrkdwn", text: body.text } }]);
  });

  it("is signed as a receiver recomputes it: HMAC-SHA256 of timestamp, a dot and the body", async () => {
    const body = renderBody(event, "json");
    const expected = createHmac("sha256", "s3cret").update(`1767323045.${body}`).digest("hex");
    expect(await signature("s3cret", 1767323045, body)).toBe(`sha256=${expected}`);
  });

  it("changes with the timestamp, so an old signature does not fit a new time", async () => {
    expect(await signature("s3cret", 1, "{}")).not.toBe(await signature("s3cret", 2, "{}"));
  });
});

describe("retries", () => {
  it("doubles the delay after each failed attempt, jittered over the upper half", () => {
    expect([1, 2, 3].map((a) => retryDelayMs(a, 1_000, 1))).toEqual([1_000, 2_000, 4_000]);
    expect(retryDelayMs(3, 1_000, 0)).toBe(2_000);
    expect(retryDelayMs(40, 1_000, 1)).toBe(MAX_RETRY_DELAY_MS);
  });

  it("gives up after the last attempt", () => {
    expect(nextAttemptAt(MAX_ATTEMPTS - 1, 0, 0, 1_000, 1)).toBeDefined();
    expect(nextAttemptAt(MAX_ATTEMPTS, 0, 0, 1_000, 1)).toBeUndefined();
  });

  it("gives up a delivery whose next attempt would be past its age limit", () => {
    expect(nextAttemptAt(1, 0, MAX_DELIVERY_AGE_MS - 500, 1_000, 1)).toBeUndefined();
  });
});
