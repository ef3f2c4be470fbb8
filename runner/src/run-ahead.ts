// The steps of a chain this runner runs ahead under offers (early-start.ts), from their start
// until a reply confirms each or it is discarded: they sit in their predecessor's slot, unknown
// to the server. Discarding one discards the steps run ahead after it, in one line of the log.
import type { Log } from "./client.ts";
import type { HeldLease } from "./early-start.ts";
import type { StepRun } from "./exec.ts";
import type { RunFiles } from "./run-files.ts";

/** A step under way here, and what settles once it has reported. */
export interface Launched {
  run: StepRun;
  finished: Promise<void>;
  /** Set for a step started early, until the reply to its predecessor's completion. */
  held?: HeldLease;
  /** The step its exit 0 started early, if any: the chain run ahead goes on from it. */
  readonly next?: Launched;
}

export class RunAhead {
  private readonly steps = new Set<Launched>();
  /** Steps discarded, until their process is gone and their files removed. */
  private readonly discards = new Set<Promise<void>>();

  constructor(
    private readonly log: Log,
    private readonly runFiles: RunFiles | undefined,
  ) {}

  has(step: Launched): boolean {
    return this.steps.has(step);
  }

  add(step: Launched): void {
    this.steps.add(step);
  }

  delete(step: Launched): void {
    this.steps.delete(step);
  }

  /** What settles once every step here, and every one discarded, is gone. */
  pending(): Array<Promise<void>> {
    return [...[...this.steps].map((s) => s.finished), ...this.discards];
  }

  /**
   * Kills the group of `first` and of the steps run ahead after it; nothing of them is
   * reported, and their files on this host go.
   */
  discard(first: Launched, why: string): void {
    const chain: Launched[] = [];
    for (let step: Launched | undefined = first; step && this.steps.has(step); step = step.next) chain.push(step);
    if (chain.length === 0) return;
    this.log(`${chain.map((s) => s.run.label).join(", ")}: started early, stopped unreported: ${why}`);
    for (const step of chain) {
      this.steps.delete(step);
      step.held?.discard();
      step.run.discard();
      // Its files were made when it started; what it still writes goes to the files it holds open.
      this.runFiles?.remove(step.run.lease);
      const gone = step.finished;
      this.discards.add(gone);
      void gone.finally(() => this.discards.delete(gone));
    }
  }

  /** Its completion was answered while it was run ahead: taken (which confirmed it), or refused. */
  ended(step: Launched, runnerId: string): void {
    if (!step.held || !this.steps.has(step)) return;
    if (!step.held.confirmed) {
      this.discard(step, "its completion was refused");
      return;
    }
    this.steps.delete(step);
    this.log(`${step.run.label}: leased by ${runnerId} (ran ahead, completed with its predecessor)`);
  }

  discardAll(why: string): void {
    for (const step of [...this.steps]) this.discard(step, why);
  }
}
