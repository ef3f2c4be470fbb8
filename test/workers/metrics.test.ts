import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { apiContract } from "../support/contract-document";
import { complete, createDag, lease, startDag, USER_TOKEN } from "./helpers";

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
  Number(new RegExp(`^${series.replace(/[{}"]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1]);

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
});
