// Persistence of a run's own state: the init record, the run-level state, the outputs, one row
// per step (written only when the step changed) and the run log. Statements are prepared once
// per object; `persist` writes what changed and nothing else.
import { asc, sql } from "drizzle-orm";
import type { ObjectDb } from "../../do-storage";
import type { RunState, StepState } from "../engine";
import type { RunInit } from "./rpc";
import * as schema from "./schema";
import { isOldShape, type StoredStep, upgradeStep } from "./stored-step";

const { meta, runLog, steps, timers } = schema;

export interface StoredInit extends RunInit {
  leaseTtlMs: number;
  /**
   * Whether the run was created queued, for admission (`maxActiveRuns`, a queue): only such a
   * run tells the admission object that it finished. Absent in runs stored before it was
   * recorded: those tell it, as they always did.
   */
  viaAdmission?: boolean;
}

/** Lines of one INSERT at most: 2 bound parameters a line, far below SQLite's limit. */
const MAX_LINES_PER_INSERT = 16;

export class RunStore {
  private readonly putMeta;
  private readonly putStep;
  /** The INSERT of that many run-log lines, by count. */
  private readonly addLines = new Map<number, { run(values: Record<string, unknown>): void }>();
  private readonly db: ObjectDb<typeof schema>;
  private readonly allMeta;
  private readonly allSteps;
  private readonly allLog;
  private readonly allTimers;
  /** The run row as last written or read, so that an event that did not change it writes no row. */
  private runRow?: string;

  constructor(db: ObjectDb<typeof schema>) {
    this.db = db;
    this.putMeta = db
      .insert(meta)
      .values({ key: sql.placeholder("key"), value: sql.placeholder("value") })
      .onConflictDoUpdate({ target: meta.key, set: { value: sql`excluded.value` } })
      .prepare();
    this.putStep = db
      .insert(steps)
      .values({ name: sql.placeholder("name"), state: sql.placeholder("state") })
      .onConflictDoUpdate({ target: steps.name, set: { state: sql`excluded.state` } })
      .prepare();
    this.allMeta = db.select().from(meta).prepare();
    this.allSteps = db.select().from(steps).prepare();
    this.allTimers = db.select().from(timers).prepare();
    this.allLog = db.select({ at: runLog.at, message: runLog.message }).from(runLog).orderBy(asc(runLog.id)).prepare();
  }

  /** The stored run, or undefined when this object holds none. */
  load(): { init: StoredInit; state: RunState } | undefined {
    const rows = new Map(this.allMeta.all().map((r) => [r.key, r.value]));
    const init = rows.get("init");
    const run = rows.get("run");
    if (!init || !run) return undefined;
    const stepStates: Record<string, StepState> = {};
    let timerAt: Map<string, number> | undefined;
    for (const r of this.allSteps.all()) {
      const row = JSON.parse(r.state) as StoredStep;
      if (!isOldShape(row)) {
        stepStates[r.name] = row as StepState;
        continue;
      }
      // Written before steps had a phase: upgraded once, and stored in the current shape.
      timerAt ??= new Map(this.allTimers.all().map((t) => [t.key, t.at]));
      const at = timerAt;
      const step = upgradeStep(row, (key) => at.get(key));
      stepStates[r.name] = step;
      this.putStep.run({ name: r.name, state: JSON.stringify(step) });
    }
    this.runRow = run;
    const outputs = JSON.parse(rows.get("outputs") ?? "{}") as Record<string, string>;
    const state = { ...(JSON.parse(run) as Omit<RunState, "steps" | "outputs">), outputs, steps: stepStates };
    return { init: JSON.parse(init) as StoredInit, state };
  }

  saveInit(init: StoredInit): void {
    this.putMeta.run({ key: "init", value: JSON.stringify(init) });
  }

  /**
   * Writes what changed: the run row if it did, the steps the engine says it wrote, and the
   * outputs if they are a new object (the engine replaces them when it changes them). Without
   * `changed` (a new run), everything.
   */
  persist(after: RunState, changed?: { steps: Iterable<string>; outputs: boolean }): void {
    const { steps: stepStates, outputs, ...run } = after;
    const runRow = JSON.stringify(run);
    if (!changed || runRow !== this.runRow) this.putMeta.run({ key: "run", value: runRow });
    this.runRow = runRow;
    if (!changed || changed.outputs) this.putMeta.run({ key: "outputs", value: JSON.stringify(outputs) });
    for (const name of changed ? changed.steps : Object.keys(stepStates)) {
      const s = stepStates[name];
      if (s) this.putStep.run({ name, state: JSON.stringify(s) });
    }
  }

  /**
   * Storage was rolled back or emptied behind this store (a transaction that threw, a wipe): the
   * next `persist` writes the run row whatever it holds.
   */
  forget(): void {
    this.runRow = undefined;
  }

  appendRunLog(message: string, at = Date.now()): void {
    this.appendRunLogLines([message], at);
  }

  /**
   * Appends lines in order, in one statement: a chain step's end and its successor's lease are
   * two lines of one transaction, and a statement costs far more than the JavaScript around it.
   */
  appendRunLogLines(messages: readonly string[], at = Date.now()): void {
    for (let from = 0; from < messages.length; from += MAX_LINES_PER_INSERT) {
      const lines = messages.slice(from, from + MAX_LINES_PER_INSERT);
      const values: Record<string, unknown> = {};
      lines.forEach((message, i) => {
        values[`at${i}`] = at;
        values[`message${i}`] = message;
      });
      this.insertLines(lines.length).run(values);
    }
  }

  /** The INSERT of `count` lines, prepared on first use: events come with few line counts. */
  private insertLines(count: number): { run(values: Record<string, unknown>): void } {
    let insert = this.addLines.get(count);
    if (!insert) {
      const rows = Array.from({ length: count }, (_, i) => ({
        at: sql.placeholder(`at${i}`),
        message: sql.placeholder(`message${i}`),
      }));
      insert = this.db.insert(runLog).values(rows).prepare();
      this.addLines.set(count, insert);
    }
    return insert;
  }

  /** The run log as text, one `<ISO time> <message>` line per entry. */
  runLogText(): string {
    const lines = this.allLog.all().map((r) => `${new Date(r.at).toISOString()} ${r.message}`);
    return lines.length ? `${lines.join("\n")}\n` : "";
  }
}
