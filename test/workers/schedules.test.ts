import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { scheduleStub } from "../../src/stubs";
import { api, complete, createDag, lease, startDag } from "./helpers";

const stubOf = (name: string) => scheduleStub(env, name);
const alarmOf = (name: string) => runInDurableObject(stubOf(name), (_o, state) => state.storage.getAlarm());
const runsOf = async (name: string) => (await api("GET", `/dag-runs/${name}`)).body.dagRuns as Array<any>;
const spec = (lines: string) => `${lines}\nsteps:\n  - echo tick\n`;

/** The first multiple of `stepMs` after now (the next match of a step-minute expression). */
const nextMultiple = (stepMs: number) => (Math.floor(Date.now() / stepMs) + 1) * stepMs;

/** Completes every step a runner can lease right now, so no run is left behind. */
async function drain(): Promise<void> {
  for (let ls = await lease(10); ls.length; ls = await lease(10)) for (const l of ls) await complete(l, 0);
}

describe("schedules", () => {
  it("arms the DAG's alarm for its next tick to the millisecond, starts a run when it fires, and re-arms", async () => {
    await createDag("every5", spec('schedule: "*/5 * * * *"'));
    const tick = nextMultiple(5 * 60_000);
    expect(await alarmOf("every5")).toBe(tick);
    const shown = await api("GET", "/dags/every5");
    expect(shown.body.dag.schedule).toEqual([{ expression: "*/5 * * * *" }]);
    expect((await api("GET", "/dags?name=every5")).body.dags[0].dag.schedule).toEqual([{ expression: "*/5 * * * *" }]);
    expect(shown.body.nextRun).toBe(new Date(tick).toISOString());
    expect(await runsOf("every5")).toEqual([]);

    expect(await runDurableObjectAlarm(stubOf("every5"))).toBe(true);
    const runs = await runsOf("every5");
    expect(runs).toHaveLength(1);
    expect(runs[0].statusLabel).toBe("running");
    expect(await alarmOf("every5")).toBe(tick + 5 * 60_000);
    const listed = (await api("GET", "/dags?name=every5")).body.dags[0];
    expect(listed.nextRun).toBe(new Date(tick + 5 * 60_000).toISOString());
    await drain();
  });

  it("reads the fields in the CRON_TZ time zone and takes the earliest of several expressions", async () => {
    await createDag("tokyo9", spec('schedule: ["CRON_TZ=Asia/Tokyo 0 9 * * *", "CRON_TZ=Asia/Tokyo 0 21 * * *"]'));
    const at = new Date((await alarmOf("tokyo9")) ?? 0);
    // 09:00 and 21:00 in Tokyo (UTC+9) are 00:00 and 12:00 UTC.
    expect([0, 12]).toContain(at.getUTCHours());
    expect(at.getUTCMinutes()).toBe(0);
    expect(at.getTime() - Date.now()).toBeLessThanOrEqual(12 * 3_600_000);
  });

  it("stops firing while suspended and resumes when unsuspended", async () => {
    await createDag("pausable", spec('schedule: "* * * * *"'));
    expect(await alarmOf("pausable")).toBe(nextMultiple(60_000));
    expect((await api("POST", "/dags/pausable/suspend", { suspend: true })).status).toBe(200);
    expect(await alarmOf("pausable")).toBeNull();
    expect(await runDurableObjectAlarm(stubOf("pausable"))).toBe(false);
    const listed = (await api("GET", "/dags?name=pausable")).body.dags[0];
    expect(listed.suspended).toBe(true);
    expect(listed.nextRun).toBeUndefined();
    expect(await runsOf("pausable")).toEqual([]);

    await api("POST", "/dags/pausable/suspend", { suspend: false });
    expect(await alarmOf("pausable")).toBe(nextMultiple(60_000));
    expect((await api("GET", "/dags/pausable")).body.suspended).toBe(false);
  });

  it("keeps a DAG suspended across a spec update", async () => {
    await createDag("kept", spec('schedule: "* * * * *"'));
    await api("POST", "/dags/kept/suspend", { suspend: true });
    await api("PUT", "/dags/kept/spec", { spec: spec('schedule: "*/2 * * * *"') });
    expect(await alarmOf("kept")).toBeNull();
    expect((await api("GET", "/dags/kept")).body.suspended).toBe(true);
  });

  it("re-arms on a spec update and clears the alarm when the schedule or the DAG goes", async () => {
    await createDag("moving", spec('schedule: "0 * * * *"'));
    expect(await alarmOf("moving")).toBe(nextMultiple(3_600_000));
    await api("PUT", "/dags/moving/spec", { spec: spec('schedule: "* * * * *"') });
    expect(await alarmOf("moving")).toBe(nextMultiple(60_000));
    await api("PUT", "/dags/moving/spec", { spec: spec("") });
    expect(await alarmOf("moving")).toBeNull();
    expect((await api("GET", "/dags/moving")).body.nextRun).toBeUndefined();

    await createDag("doomed", spec('schedule: "* * * * *"'));
    expect((await api("DELETE", "/dags/doomed")).status).toBe(204);
    expect(await alarmOf("doomed")).toBeNull();
  });

  it("skips a tick when skipIfSuccessful and the DAG succeeded since the previous tick", async () => {
    await createDag("skippy", spec('schedule: "* * * * *"\nskipIfSuccessful: true'));
    await createDag("always", spec('schedule: "* * * * *"'));
    for (const name of ["skippy", "always"]) {
      await startDag(name);
      await drain();
      expect((await runsOf(name))[0].statusLabel).toBe("succeeded");
      await runDurableObjectAlarm(stubOf(name));
    }
    expect(await runsOf("skippy")).toHaveLength(1);
    const state = await stubOf("skippy").state();
    expect(state?.lastTick?.outcome).toMatch(/^skipped: run .* succeeded since the previous tick$/);
    expect(await runsOf("always")).toHaveLength(2);
    await drain();
  });

  it("sorts by next run time, DAGs without a schedule last", async () => {
    await createDag("nr-hourly", spec('schedule: "0 * * * *"'));
    await createDag("nr-minutely", spec('schedule: "* * * * *"'));
    await createDag("nr-manual", spec(""));
    const order = async (q: string) =>
      (await api("GET", `/dags?name=nr-&sort=nextRun${q}`)).body.dags.map((d: { fileName: string }) => d.fileName);
    // Unless this runs in the last minute of an hour, the minutely DAG fires first.
    if (new Date().getUTCMinutes() !== 59) {
      expect(await order("")).toEqual(["nr-minutely", "nr-hourly", "nr-manual"]);
      expect(await order("&order=desc")).toEqual(["nr-manual", "nr-hourly", "nr-minutely"]);
    } else expect((await order("")).at(-1)).toBe("nr-manual");
  });

  it.each([
    ['schedule: "61 * * * *"', '"61 * * * *"'],
    ['schedule: "CRON_TZ=Nowhere/Land 0 9 * * *"', 'unknown time zone "Nowhere/Land"'],
    ['schedule: "* * * *"', "exactly five fields"],
  ])("refuses %s with the offending text and stores nothing", async (line, text) => {
    const r = await api("POST", "/dags", { name: "badcron", spec: spec(line) });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("bad_request");
    expect(r.body.message).toContain(text);
    expect(r.body.message).toContain("line 1, schedule");
    expect((await api("GET", "/dags/badcron")).status).toBe(404);
  });
});

describe("the cron trigger's safety net", () => {
  it("re-arms a scheduled DAG whose alarm went missing", async () => {
    await createDag("lost-alarm", spec('schedule: "*/5 * * * *"'));
    const tick = await alarmOf("lost-alarm");
    await runInDurableObject(stubOf("lost-alarm"), (_o, state) => state.storage.deleteAlarm());
    expect(await alarmOf("lost-alarm")).toBeNull();
    const ctx = createExecutionContext();
    const controller = { cron: "*/10 * * * *", scheduledTime: Date.now(), type: "scheduled" as const, noRetry() {} };
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await alarmOf("lost-alarm")).toBe(tick);
  });
});
