// ScheduleObject: one Durable Object per scheduled DAG, whose alarm is the DAG's clock. It is
// armed for the exact millisecond of the next cron match (any of the DAG's expressions), starts
// a run when it fires, and re-arms for the match after. Its storage, alarm included, outlives
// restarts. The D1 `dags` row holds the truth (spec, suspended); this object only keeps the
// expressions it was armed with and the time it was armed for.
import { DurableObject } from "cloudflare:workers";
import { type CronSpec, nextFireAt, parseCron, previousFireAt } from "../dag/cron";
import type { DagDef } from "../dag/types";
import { db, getDag, runSince, setDagSchedule } from "../db/queries";
import type { Env } from "../env";
import { startRun } from "../run/start-run";
import { recordRunAction, SCHEDULE } from "../run-actions";
import { scheduleStub } from "../stubs";

export interface ScheduleState {
  dagName: string;
  schedule: string[];
  suspended: boolean;
  /** The tick the alarm is armed for (epoch ms), null when not armed. */
  armedFor: number | null;
  /** The last tick that fired, and what it did. */
  lastTick?: { at: number; outcome: string };
}

/** Brings a DAG's schedule object in line with its stored definition; returns the next run time. */
export async function syncSchedule(
  env: Env,
  dagName: string,
  dag: DagDef | null,
  suspended: boolean,
): Promise<number | null> {
  return scheduleStub(env, dagName).configure(dagName, dag?.schedule ?? [], suspended);
}

export class ScheduleObject extends DurableObject<Env> {
  private async load(): Promise<ScheduleState | undefined> {
    return this.ctx.storage.get<ScheduleState>("state");
  }

  /**
   * Arms the alarm for the next tick, or clears it when there is no schedule or it is
   * suspended. Unchanged expressions with an alarm already set keep their tick, so calling
   * this again (the safety net does) never skips or repeats a run.
   */
  async configure(dagName: string, schedule: string[], suspended: boolean): Promise<number | null> {
    const prev = await this.load();
    if (!schedule.length) {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      await this.writeNextRun(dagName, null);
      return null;
    }
    const same = prev && prev.suspended === suspended && prev.schedule.join("\n") === schedule.join("\n");
    if (same && prev.armedFor !== null && (await this.ctx.storage.getAlarm()) !== null) {
      return prev.armedFor;
    }
    const armedFor = suspended ? null : nextFireAt(specsOf(schedule), Date.now());
    await this.save({ dagName, schedule, suspended, armedFor, lastTick: prev?.lastTick });
    await this.writeNextRun(dagName, armedFor);
    return armedFor;
  }

  async state(): Promise<ScheduleState | null> {
    return (await this.load()) ?? null;
  }

  override async alarm(): Promise<void> {
    const st = await this.load();
    if (!st || st.suspended || st.armedFor === null) return;
    // The tick this alarm stands for. An alarm is never early in production; a late one (the
    // server was down) fires the tick once and goes on from now, without catching up.
    const tick = st.armedFor;
    const outcome = await this.fire(st, tick);
    const armedFor = nextFireAt(specsOf(st.schedule), Math.max(tick, Date.now()));
    await this.save({ ...st, armedFor, lastTick: { at: tick, outcome } });
    await this.writeNextRun(st.dagName, armedFor);
  }

  /** Starts the DAG's run for one tick, unless skipIfSuccessful says it already ran. */
  private async fire(st: ScheduleState, tick: number): Promise<string> {
    const d = db(this.env.DB);
    const row = await getDag(d, st.dagName);
    const dag = row?.parsed ? (JSON.parse(row.parsed) as DagDef) : undefined;
    if (!row || !dag) return "the DAG no longer exists";
    if (row.suspended) return "suspended";
    if (dag.skipIfSuccessful) {
      const since = previousFireAt(specsOf(st.schedule), tick);
      const done = since !== null ? await runSince(d, dag.name, ["succeeded"], since) : undefined;
      if (done) return `skipped: run ${done.runId} succeeded since the previous tick`;
    }
    try {
      const { runId, queued } = await startRun(this.env, dag, {});
      await recordRunAction(this.env, { runId, action: queued ? "enqueue" : "start", by: SCHEDULE });
      return `${queued ? "queued" : "started"} run ${runId}`;
    } catch (err) {
      console.error(`schedule of ${st.dagName}: start failed`, err);
      return `start failed: ${(err as Error).message}`;
    }
  }

  private async save(st: ScheduleState): Promise<void> {
    await this.ctx.storage.put("state", st);
    if (st.armedFor === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(st.armedFor);
  }

  private async writeNextRun(dagName: string, at: number | null): Promise<void> {
    try {
      await setDagSchedule(db(this.env.DB), dagName, { nextRunAt: at });
    } catch (err) {
      // Only the listing's nextRun is stale; the alarm, which is the clock, is set.
      console.error(`schedule of ${dagName}: could not record the next run time`, err);
    }
  }
}

function specsOf(schedule: string[]): CronSpec[] {
  return schedule.flatMap((e) => {
    const r = parseCron(e);
    return r.ok ? [r.spec] : [];
  });
}
