// A completion over the runner's socket reaches the dispatcher first, which holds both the
// runner's socket and the pool's queue. When the runner asks for its next leases with it, the
// dispatcher takes the tasks that request would get (oldest first, as any take) before the
// completion goes to its run, and those of the same run are claimed in the completion's own
// storage transaction: a step of a wide run then costs one call to its run instead of two
// (complete, then claim), and one transaction instead of two.
import type { Claim } from "../run/object/rpc";
import type { Lease, NextAsk } from "../shared/protocol";

/** A row of the task table, as taken off it. */
export type TaskRow = {
  id: number;
  run_id: string;
  step: string;
  dispatch_seq: number;
  enqueued_at: number;
  selector: string;
};

/** What the completion needs of the dispatcher's queue. */
export interface TaskQueue {
  takeRows(labels: Record<string, string>, max: number): TaskRow[];
  putBack(rows: TaskRow[]): void;
  claimRows(rows: TaskRow[], runnerId: string): Promise<Lease[]>;
}

/** Tasks taken along with a completion; `settle` answers the leases of the completion's reply. */
export interface Along {
  /** The taken tasks of the completion's own run, for it to claim. */
  claims: Claim[];
  /**
   * `granted`: the leases the run gave; `untried`: the claims it left out, or "all" when the
   * completion was refused. Left-out tasks go back in their places; other runs' tasks are
   * claimed while there is room.
   */
  settle(granted: Lease[], untried: Claim[] | "all"): Promise<Lease[]>;
}

export function takeAlong(queue: TaskQueue, runId: string, next: NextAsk): Along {
  const rows = queue.takeRows(next.labels, next.max);
  const mine = rows.filter((r) => r.run_id === runId);
  const others = rows.filter((r) => r.run_id !== runId);
  return {
    claims: mine.map((r) => ({ step: r.step, dispatchSeq: r.dispatch_seq })),
    async settle(granted, untried) {
      if (untried === "all") {
        queue.putBack(rows);
        return [];
      }
      const left = new Set(untried.map(claimKey));
      queue.putBack(mine.filter((r) => left.has(claimKey({ step: r.step, dispatchSeq: r.dispatch_seq }))));
      const room = Math.max(0, next.max - granted.length);
      queue.putBack(others.slice(room));
      return [...granted, ...(await queue.claimRows(others.slice(0, room), next.runnerId))];
    },
  };
}

function claimKey(c: Claim): string {
  return `${c.dispatchSeq}:${c.step}`;
}
