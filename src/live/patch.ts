// A live patch (docs/live.md): the run's own fields and the nodes the changed steps touch,
// presented from those steps alone, so that a flush costs what changed and not the run's size.
// The frame is the one a full presentation filtered to the touched nodes would give.
import { type detailHints, presentWithHints } from "../routes/run-details";
import type { RunSnapshot } from "../run/object/rpc";

export type DetailHints = Awaited<ReturnType<typeof detailHints>>;

export function patchOf(snap: RunSnapshot, hints: DetailHints, changed: ReadonlySet<string>) {
  const { nodes, ...run } = presentWithHints(snap, hints, changed);
  return { type: "patch" as const, run, nodes };
}
