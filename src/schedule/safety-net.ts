// The Workers cron trigger's job: not the clock (each DAG's ScheduleObject alarm is), but a
// safety net that re-arms any scheduled DAG whose alarm is missing, e.g. after storage was
// restored or an arm failed half-way. Configuring an object that is armed changes nothing.
import type { DagDef } from "../dag/types";
import { db, listDags } from "../db/queries";
import type { Env } from "../env";
import { syncSchedule } from "./schedule-object";

export async function rearmSchedules(env: Env): Promise<number> {
  let checked = 0;
  for (const row of await listDags(db(env.DB))) {
    const dag = row.parsed ? (JSON.parse(row.parsed) as DagDef) : null;
    if (!dag?.schedule?.length) continue;
    await syncSchedule(env, row.name, dag, row.suspended);
    checked++;
  }
  return checked;
}
