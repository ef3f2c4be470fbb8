import { describe, expect, it } from "vitest";
import { pollsToWake } from "../../../src/dispatch/wake-polls";

const poll = (id: string, labels: Record<string, string>, max = 1) => ({ id, labels, max });
const ids = (polls: Array<{ id: string }>) => polls.map((p) => p.id);

describe("which waiting long polls new tasks wake", () => {
  it("wakes no idle poll whose runner's labels the task does not select", () => {
    const idle = Array.from({ length: 64 }, (_, i) => poll(`idle-${i}`, { kind: "idle" }));
    expect(pollsToWake([{ pool: "default", kind: "work" }], idle)).toEqual([]);
  });

  it("wakes one matching poll for one task, the oldest", () => {
    const polls = [poll("idle", { kind: "idle" }), poll("a", { kind: "work" }), poll("b", { kind: "work" })];
    expect(ids(pollsToWake([{ kind: "work" }], polls))).toEqual(["a"]);
  });

  it("wakes one poll for as many tasks as it asked for, and the next for the rest", () => {
    const polls = [poll("a", {}, 3), poll("b", {}, 3), poll("c", {}, 3)];
    expect(ids(pollsToWake([{}, {}, {}], polls))).toEqual(["a"]);
    expect(ids(pollsToWake([{}, {}, {}, {}], polls))).toEqual(["a", "b"]);
  });

  it("wakes for each task a poll that may take it", () => {
    const polls = [poll("cpu", { kind: "cpu" }, 10), poll("gpu", { kind: "gpu" }, 10)];
    expect(ids(pollsToWake([{ kind: "gpu" }, { kind: "cpu" }], polls))).toEqual(["gpu", "cpu"]);
  });
});
