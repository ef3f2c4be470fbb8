// Which waiting HTTP long polls new tasks wake. Waking every idle poll would cost each of them a
// take and a new wait for tasks that only some can have: with R idle runners a task would cost
// 2R calls. So a task wakes the oldest waiting poll whose runner's labels match it, and one
// woken poll counts for as many tasks as it asked for (a poll asking for 64 takes 64). Idle
// runners that no task selects are never woken; they cost their own renewal every 25 s,
// whatever the number of tasks. PURE.
import { matches, type Selector } from "../shared/selector";

export interface WaitingPoll {
  labels: Record<string, string>;
  /** The runner's free slots: how many tasks the poll takes when woken. */
  max: number;
}

/** The polls to wake for tasks with these selectors, from `polls` (oldest first). */
export function pollsToWake<P extends WaitingPoll>(selectors: Selector[], polls: Iterable<P>): P[] {
  const woken: Array<{ poll: P; room: number }> = [];
  const asleep = [...polls];
  for (const selector of selectors) {
    const taker = woken.find((w) => w.room > 0 && matches(selector, w.poll.labels));
    if (taker) {
      taker.room--;
      continue;
    }
    const i = asleep.findIndex((p) => matches(selector, p.labels));
    const poll = asleep[i];
    if (!poll) continue;
    asleep.splice(i, 1);
    woken.push({ poll, room: poll.max - 1 });
  }
  return woken.map((w) => w.poll);
}
