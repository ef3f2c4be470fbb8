import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiContract } from "../support/contract-document";
import { api, complete, createDag, lease, startDag, USER_TOKEN } from "./helpers";

async function metricsText(): Promise<string> {
  const res = await exports.default.fetch("http://dagflare.test/api/v2/metrics", {
    headers: { authorization: `Bearer ${USER_TOKEN}` },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
  const text = await res.text();
  apiContract().assert("GET", "/api/v2/metrics", 200, text);
  return text;
}

const sample = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}+.]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1]);

describe("GET /metrics", () => {
  it("counts DAGs and runs by status in Prometheus text format", async () => {
    await createDag("m1", "steps:\n  - echo\n");
    await createDag("m2", "steps:\n  - echo\n");
    await startDag("m1");
    const running = await metricsText();
    expect(sample(running, "dagu_dags_total")).toBe(2);
    expect(sample(running, "dagu_dag_runs_currently_running")).toBe(1);
    expect(running).toMatch(/^# TYPE dagu_dag_runs_total counter$/m);
    const [l] = await lease();
    await complete(l, 0);
    const done = await metricsText();
    expect(sample(done, "dagu_dag_runs_currently_running")).toBe(0);
    expect(sample(done, 'dagu_dag_runs_total{status="succeeded"}')).toBe(1);
  });

  it("counts a run waiting for approval as currently running", async () => {
    await createDag(
      "mwait",
      "steps:\n  - name: build\n    command: echo build\n  - name: deploy\n    command: echo deploy\n    approval: {}\n",
    );
    await startDag("mwait");
    const before = sample(await metricsText(), "dagu_dag_runs_currently_running");
    const [build] = await lease();
    await complete(build, 0);
    const text = await metricsText();
    expect(sample(text, 'dagu_dag_runs_total{status="waiting"}')).toBe(1);
    expect(sample(text, "dagu_dag_runs_currently_running")).toBe(before);
  });
});

describe("GET /metrics: steps and schedules", () => {
  it("counts the steps of finished runs by status and their durations in a histogram", async () => {
    await createDag(
      "msteps",
      "steps:\n  - name: a\n    command: echo a\n  - name: b\n    command: 'false'\n  - name: c\n    command: echo c\n",
    );
    await startDag("msteps");
    const before = await metricsText();
    const [a] = await lease();
    await complete(a, 0);
    expect(sample(await metricsText(), 'dagflare_step_runs_total{status="succeeded"}')).toBe(
      sample(before, 'dagflare_step_runs_total{status="succeeded"}'),
    );
    const [b] = await lease();
    await complete(b, 1);
    const text = await metricsText();
    const grew = (series: string) => sample(text, series) - sample(before, series);
    expect(grew('dagflare_step_runs_total{status="succeeded"}')).toBe(1);
    expect(grew('dagflare_step_runs_total{status="failed"}')).toBe(1);
    // c never ran: counted by status, not timed.
    expect(grew('dagflare_step_runs_total{status="aborted"}')).toBe(1);
    expect(text).toMatch(/^# TYPE dagflare_step_duration_seconds histogram$/m);
    expect(grew("dagflare_step_duration_seconds_count")).toBe(2);
    expect(grew('dagflare_step_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    // In a test both steps end within the same few milliseconds they started.
    expect(grew('dagflare_step_duration_seconds_bucket{le="1"}')).toBe(2);
    expect(text).toMatch(/^dagflare_step_duration_seconds_sum \d/m);
  });

  it("reports the scheduler as running and counts scheduled and suspended DAGs", async () => {
    await createDag("msched", 'schedule: "0 * * * *"\nsteps:\n  - echo\n');
    await createDag("mpaused", 'schedule: "0 * * * *"\nsteps:\n  - echo\n');
    await api("POST", "/dags/mpaused/suspend", { suspend: true });
    const text = await metricsText();
    expect(sample(text, "dagu_scheduler_running")).toBe(1);
    expect(sample(text, "dagflare_scheduled_dags")).toBe(1);
    expect(sample(text, "dagflare_suspended_dags")).toBe(1);
  });
});

describe("GET /services", () => {
  it("describes the scheduler as the DAGs' Durable Object alarms, in the contract's shape", async () => {
    await createDag("svc", 'schedule: "*/5 * * * *"\nsteps:\n  - echo\n');
    const r = await api("GET", "/services/scheduler");
    expect(r.status).toBe(200);
    const [s] = r.body.schedulers;
    expect(s).toMatchObject({ status: "active", kind: "durable-object-alarms", host: "dagflare.test" });
    expect(s.scheduledDags).toBeGreaterThanOrEqual(1);
    expect(Date.parse(s.nextRun) % (5 * 60_000)).toBe(0);
  });

  it("answers the resource history in the contract's shape, with empty series: no host of its own, no runner reports", async () => {
    for (const q of ["", "?duration=30m", "?duration=1h30m"]) {
      const r = await api("GET", `/services/resources/history${q}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ cpu: [], memory: [], disk: [], load: [] });
    }
  });

  it("refuses a resource history duration that is not a duration, naming it", async () => {
    const r = await api("GET", "/services/resources/history?duration=an-hour");
    expect(r.status).toBe(400);
    expect(r.body.message).toContain("duration");
    expect(r.body.details.fields).toEqual(["duration"]);
  });

  it("describes the coordinator as the dispatcher reached at this Worker's address", async () => {
    const r = await api("GET", "/services/coordinator");
    expect(r.status).toBe(200);
    expect(r.body.coordinators).toEqual([
      expect.objectContaining({ instanceId: "dispatch-default", host: "dagflare.test", port: 80, status: "active" }),
    ]);
  });
});
