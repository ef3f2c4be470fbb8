// The DAG catalogue's rules, called directly (routes only parse and present): what each change
// writes to D1 and to the DAG's schedule, and that a refused change leaves both as they were.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDag, deleteDagFile, renameDagFile, setSuspended, updateSpec } from "../../src/dags/catalogue";
import { db, getDag } from "../../src/db/queries";

const stubOf = (name: string) => env.SCHEDULES.get(env.SCHEDULES.idFromName(name));
const alarmOf = (name: string) => runInDurableObject(stubOf(name), (_o, state) => state.storage.getAlarm());
const scheduled = (name: string) => `name: ${name}\nschedule: "*/5 * * * *"\nsteps:\n  - echo tick\n`;
const stored = (name: string) => getDag(db(env.DB), name);

describe("the DAG catalogue", () => {
  it("stores nothing and arms no schedule for a spec with errors", async () => {
    await expect(createDag(env, "broken", 'schedule: "*/5 * * * *"\nsteps: 7\n')).rejects.toMatchObject({
      code: "bad_request",
      status: 400,
    });
    expect(await stored("broken")).toBeUndefined();
    expect(await alarmOf("broken")).toBeNull();
  });

  it("keeps a DAG's spec and schedule when an update is refused", async () => {
    await createDag(env, "kept", scheduled("kept"));
    const armed = await alarmOf("kept");
    await expect(updateSpec(env, "kept", "steps:\n  - name: a\n    depends: [nope]\n")).rejects.toMatchObject({
      status: 400,
    });
    expect((await stored("kept"))?.spec).toBe(scheduled("kept"));
    expect(await alarmOf("kept")).toBe(armed);
  });

  it("moves a DAG's schedule with it on rename", async () => {
    await createDag(env, "old-name", 'schedule: "*/5 * * * *"\nsteps:\n  - echo tick\n');
    const armed = await alarmOf("old-name");
    expect(armed).not.toBeNull();
    await renameDagFile(env, "old-name", "new-name");
    expect(await stored("old-name")).toBeUndefined();
    expect(await alarmOf("old-name")).toBeNull();
    expect(await alarmOf("new-name")).toBe(armed);
  });

  it("keeps a suspended DAG suspended, its schedule unarmed, when it is renamed", async () => {
    await createDag(env, "sleepy", 'schedule: "*/5 * * * *"\nsteps:\n  - echo tick\n');
    await setSuspended(env, "sleepy", true);
    expect(await alarmOf("sleepy")).toBeNull();
    await renameDagFile(env, "sleepy", "still-sleepy");
    expect((await stored("still-sleepy"))?.suspended).toBe(true);
    expect(await alarmOf("still-sleepy")).toBeNull();
  });

  it("leaves a DAG and its schedule as they were when a rename is refused because the name is taken", async () => {
    await createDag(env, "mine", scheduled("mine"));
    await createDag(env, "taken");
    const armed = await alarmOf("mine");
    await expect(renameDagFile(env, "mine", "taken")).rejects.toMatchObject({ code: "already_exists", status: 409 });
    expect((await stored("mine"))?.spec).toBe(scheduled("mine"));
    expect(await alarmOf("mine")).toBe(armed);
  });

  it("disarms a deleted DAG's schedule", async () => {
    await createDag(env, "gone", scheduled("gone"));
    expect(await alarmOf("gone")).not.toBeNull();
    expect(await deleteDagFile(env, "gone")).toEqual([]);
    expect(await stored("gone")).toBeUndefined();
    expect(await alarmOf("gone")).toBeNull();
  });

  it("says not_found for a DAG that is not there, for every change", async () => {
    const notFound = { code: "not_found", status: 404 };
    await expect(updateSpec(env, "nobody", scheduled("nobody"))).rejects.toMatchObject(notFound);
    await expect(setSuspended(env, "nobody", true)).rejects.toMatchObject(notFound);
    await expect(renameDagFile(env, "nobody", "somebody")).rejects.toMatchObject(notFound);
    await expect(deleteDagFile(env, "nobody")).rejects.toMatchObject(notFound);
  });
});
