import { describe, expect, it } from "vitest";
import { decodeTimer, encodeTimer, type Timer } from "../../../src/run/engine";

describe("timer keys", () => {
  it.each<[Timer, string]>([
    [{ kind: "lease", step: "build" }, "lease:build"],
    [{ kind: "timeout", step: "build" }, "timeout:build"],
    [{ kind: "retry", step: "build" }, "retry:build"],
    [{ kind: "repeat", step: "build" }, "repeat:build"],
    [{ kind: "run:timeout" }, "run:timeout"],
    [{ kind: "run:delay" }, "run:delay"],
    [{ kind: "enqueue", step: "fan[3]" }, "enqueue:fan[3]"],
    [{ kind: "child", step: "call" }, "child:call"],
    [{ kind: "stopchild", runId: "r1-4-2" }, "stopchild:r1-4-2"],
    [{ kind: "summary" }, "summary"],
  ])("stores %o as the key runs already have, %s, and reads it back", (timer, key) => {
    expect(encodeTimer(timer)).toBe(key);
    expect(decodeTimer(key)).toEqual(timer);
  });

  it("keeps a step name holding a colon whole", () => {
    expect(decodeTimer(encodeTimer({ kind: "retry", step: "db:migrate" }))).toEqual({
      kind: "retry",
      step: "db:migrate",
    });
  });

  it("reads a key no version of dagflare wrote as no timer", () => {
    expect(decodeTimer("nap:build")).toBeUndefined();
    expect(decodeTimer("nothing")).toBeUndefined();
  });
});
