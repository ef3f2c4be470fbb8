// Durations and counts: validation bounds each to what the server's timers and the runner's
// timers can honour, so that what validates starts, and a run that cannot start leaves nothing.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import { db, insertDag } from "../../../src/db/queries";
import {
  MAX_COUNT,
  MAX_REPEAT_LIMIT,
  MAX_RETRY_LIMIT,
  MAX_RUNNER_TIMER_SEC,
  MAX_SERVER_TIMER_SEC,
} from "../../../src/limits";
import { api, complete, createDag, details, fireRunAlarm, lease, nodeOf, startDag } from "../helpers";

const step = (keys: string) => `steps:\n  - name: s\n    command: echo\n${keys}`;

describe("durations and counts past their bounds", () => {
  it.each([
    ["the DAG's timeoutSec", `timeoutSec: ${MAX_SERVER_TIMER_SEC + 1}\n${step("")}`, "timeoutSec", "a year"],
    ["the DAG's delaySec", `delaySec: ${MAX_SERVER_TIMER_SEC + 1}\n${step("")}`, "delaySec", "a year"],
    ["a step's timeoutSec", step(`    timeoutSec: ${MAX_RUNNER_TIMER_SEC + 1}\n`), "steps[0].timeoutSec", "24.8 days"],
    [
      "maxCleanUpTimeSec",
      `maxCleanUpTimeSec: ${MAX_RUNNER_TIMER_SEC + 1}\n${step("")}`,
      "maxCleanUpTimeSec",
      "24.8 days",
    ],
    [
      "a retry interval",
      step(`    retryPolicy: { limit: 1, intervalSec: ${MAX_SERVER_TIMER_SEC + 1} }\n`),
      "steps[0].retryPolicy.intervalSec",
      "a year",
    ],
    [
      "a repeat's maxIntervalSec",
      step(`    repeatPolicy: { repeat: true, limit: 2, maxIntervalSec: ${MAX_SERVER_TIMER_SEC + 1} }\n`),
      "steps[0].repeatPolicy.maxIntervalSec",
      "a year",
    ],
    [
      "retryPolicy.limit",
      step(`    retryPolicy: { limit: ${MAX_RETRY_LIMIT + 1} }\n`),
      "steps[0].retryPolicy.limit",
      "limit of retries",
    ],
    [
      "repeatPolicy.limit",
      step(`    repeatPolicy: { repeat: true, limit: ${MAX_REPEAT_LIMIT + 1} }\n`),
      "steps[0].repeatPolicy.limit",
      "limit of repeats",
    ],
    ["maxActiveSteps", `maxActiveSteps: ${MAX_COUNT + 1}\n${step("")}`, "maxActiveSteps", "limit of a count"],
    ["a 20-digit timeout", `timeoutSec: 99999999999999999999\n${step("")}`, "timeoutSec", "integer"],
  ])("refuses %s with a 400 naming the field and the limit", async (_what, spec, field, limit) => {
    const r = await api("POST", "/dags", { name: "bounds", spec });
    expect(r.status).toBe(400);
    expect(r.body.details.errors).toEqual([expect.stringContaining(field)]);
    expect(r.body.message).toContain(limit);
  });

  it("refuses a repeat that would run again at once for ever", async () => {
    const r = await api("POST", "/dags", { name: "busy", spec: step("    repeatPolicy: { repeat: true }\n") });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/neither limit nor intervalSec/);
  });
});

describe("durations at their bounds", () => {
  it("starts a DAG whose every duration is at its bound, and hands the runner the step's timeout", async () => {
    await createDag(
      "longest",
      `timeoutSec: ${MAX_SERVER_TIMER_SEC}\nmaxCleanUpTimeSec: ${MAX_RUNNER_TIMER_SEC}\n${step(
        `    timeoutSec: ${MAX_RUNNER_TIMER_SEC}\n    retryPolicy: { limit: ${MAX_RETRY_LIMIT}, intervalSec: ${MAX_SERVER_TIMER_SEC} }\n`,
      )}`,
    );
    const runId = await startDag("longest");
    const [l] = await lease();
    expect(l.exec).toMatchObject({ timeoutSec: MAX_RUNNER_TIMER_SEC, cleanUpSec: MAX_RUNNER_TIMER_SEC });
    expect((await complete(l, 1)).status).toBe(200);
    expect(nodeOf(await details("longest", runId), "s").statusLabel).toBe("retrying");
  });

  it("keeps a retry backoff that grows past any date within the longest timer", async () => {
    await createDag(
      "backoff",
      step(`    retryPolicy: { limit: 5, intervalSec: ${MAX_SERVER_TIMER_SEC}, backoff: 1000 }\n`),
    );
    const runId = await startDag("backoff");
    // The third wait would be a million years without the bound.
    for (let attempt = 1; attempt <= 4; attempt++) {
      const [l] = await lease();
      expect(l.attempt).toBe(attempt);
      const r = await complete(l, 1);
      expect(r.status).toBe(200);
      expect(nodeOf(await details("backoff", runId), "s").statusLabel).toBe("retrying");
      expect(await fireRunAlarm(runId)).toBe(true);
    }
  });
});

describe("a run that cannot start", () => {
  it("answers 400 and leaves nothing under its id, which can be used again", async () => {
    // A DAG stored before its durations were bounded: parsed without today's checks.
    const parsed = parseDag(step(""), { name: "stale" });
    if (!parsed.ok) throw new Error("the base spec must parse");
    const stale = { ...parsed.dag, delaySec: 10 ** 13 };
    const now = Date.now();
    await insertDag(db(env.DB), {
      name: "stale",
      spec: `delaySec: ${10 ** 13}\n${step("")}`,
      parsed: JSON.stringify(stale),
      tags: "[]",
      errors: "[]",
      createdAt: now,
      updatedAt: now,
    });
    for (let i = 0; i < 2; i++) {
      const r = await api("POST", "/dags/stale/start", { dagRunId: "only-once" });
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/could not start/);
      expect((await api("GET", "/dag-runs/stale/only-once")).status).toBe(404);
    }
    const saved = await api("PUT", "/dags/stale/spec", { spec: `delaySec: ${10 ** 13}\n${step("")}` });
    expect(saved.status).toBe(400);
    expect(saved.body.message).toMatch(/delaySec must be at most/);
    expect((await api("PUT", "/dags/stale/spec", { spec: step("") })).status).toBe(200);
    expect((await api("POST", "/dags/stale/start", { dagRunId: "only-once" })).status).toBe(200);
  });
});
