import { describe, expect, it } from "vitest";
import { findCycles } from "../support/import-cycles";

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

describe("finding import cycles", () => {
  it("finds none in a graph whose imports all point one way", () => {
    expect(findCycles(graph({ "a.ts": ["b.ts", "c.ts"], "b.ts": ["c.ts"], "c.ts": [] }))).toEqual([]);
  });

  it("shows a cycle as the path of imports that closes it", () => {
    const g = graph({ "a.ts": ["b.ts"], "b.ts": ["c.ts"], "c.ts": ["a.ts"], "d.ts": ["a.ts"] });
    expect(findCycles(g).map((c) => c.join(" -> "))).toEqual(["a.ts -> b.ts -> c.ts -> a.ts"]);
  });

  it("shows the shortest cycle through a tangle of files, once per tangle", () => {
    const g = graph({
      "a.ts": ["b.ts", "c.ts"],
      "b.ts": ["c.ts"],
      "c.ts": ["a.ts"],
      "x.ts": ["y.ts"],
      "y.ts": ["x.ts"],
    });
    expect(findCycles(g).map((c) => c.join(" -> "))).toEqual(["a.ts -> c.ts -> a.ts", "x.ts -> y.ts -> x.ts"]);
  });

  it("counts a file that imports itself as a cycle", () => {
    expect(findCycles(graph({ "a.ts": ["a.ts"] }))).toEqual([["a.ts", "a.ts"]]);
  });
});
