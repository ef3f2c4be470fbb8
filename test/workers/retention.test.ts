import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { mailStub, runStub } from "../../src/stubs";
import { api, complete, createDag, lease, startDag } from "./helpers";

const DAY_MS = 86_400_000;

async function finishOne(): Promise<void> {
  const [l] = await lease();
  await complete(l, 0);
}

/** Moves a finished run back in time, as if it had finished `days` ago. */
async function finishedDaysAgo(runId: string, days: number): Promise<void> {
  await env.DB.prepare("UPDATE dag_runs SET finished_at = ? WHERE run_id = ?")
    .bind(Date.now() - days * DAY_MS, runId)
    .run();
}

const stored = async (runId: string) => (await runStub(env, runId).snapshot()).ok;

/** Rows of who did what to a run. */
async function actionRows(runId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM run_actions WHERE run_id = ?")
    .bind(runId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("histRetentionDays", () => {
  it("removes a DAG's runs older than its retention, with their storage, when one of its runs finishes", async () => {
    await createDag("kept3", "histRetentionDays: 3\nsteps:\n  - echo\n");
    await createDag("forever", "steps:\n  - echo\n");
    const old = await startDag("kept3");
    await finishOne();
    const recent = await startDag("kept3");
    await finishOne();
    const other = await startDag("forever");
    await finishOne();
    await finishedDaysAgo(old, 4);
    await finishedDaysAgo(recent, 2);
    await finishedDaysAgo(other, 400);

    const running = await startDag("kept3");
    expect((await api("GET", `/dag-runs/kept3/${old}`)).status).toBe(200);
    await finishOne();

    expect((await api("GET", `/dag-runs/kept3/${old}`)).status).toBe(404);
    expect(await stored(old)).toBe(false);
    expect((await api("GET", `/dag-runs/kept3/${recent}`)).status).toBe(200);
    expect((await api("GET", `/dag-runs/kept3/${running}`)).body.dagRunDetails.statusLabel).toBe("succeeded");
    expect((await api("GET", `/dag-runs/forever/${other}`)).status).toBe(200);
  });

  it("with 0 days keeps only the run that just finished", async () => {
    await createDag("kept0", "histRetentionDays: 0\nsteps:\n  - echo\n");
    const first = await startDag("kept0");
    await finishOne();
    expect((await api("GET", `/dag-runs/kept0/${first}`)).status).toBe(200);
    const second = await startDag("kept0");
    await finishOne();
    expect((await api("GET", "/dag-runs/kept0")).body.dagRuns.map((r: { dagRunId: string }) => r.dagRunId)).toEqual([
      second,
    ]);
  });

  it("removes an expired run's mail and its record of who did what, with the run", async () => {
    // No SMTP server is configured here: the mail stays pending, retried, until it is removed.
    await createDag(
      "mailed3",
      "histRetentionDays: 3\nmailOn: { success: true }\ninfoMail: { to: [ops@example.test] }\nsteps:\n  - echo\n",
    );
    const old = await startDag("mailed3");
    await finishOne();
    await finishedDaysAgo(old, 4);
    expect((await mailStub(env, old).list()).map((m) => m.kind)).toEqual(["infoMail"]);
    expect(await actionRows(old)).toBe(1);

    await startDag("mailed3");
    await finishOne();

    expect(await stored(old)).toBe(false);
    expect(await mailStub(env, old).list()).toEqual([]);
    expect(await actionRows(old)).toBe(0);
  });
});
