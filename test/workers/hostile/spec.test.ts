// Hostile and oversized DAG files: each is refused with a 400 naming the limit it breaks, and
// nothing is stored. (The limits: README "Limits", src/limits.ts.)
import { describe, expect, it } from "vitest";
import { MAX_SPEC_BYTES, MAX_STEPS, MAX_STORED_DAG_BYTES, MAX_YAML_DEPTH } from "../../../src/limits";
import { api } from "../helpers";

/** Nine aliases of nine aliases of ...: 400-odd bytes that stand for 9^9 strings. */
function aliasBomb(): string {
  let spec = "steps:\n  - name: s\n    command: echo\n    params:\n      A: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n";
  let prev = "a";
  for (const n of ["b", "c", "d", "e", "f", "g", "h", "i"]) {
    spec += `      ${n.toUpperCase()}: &${n} [${Array(9).fill(`*${prev}`).join(",")}]\n`;
    prev = n;
  }
  return spec;
}

const steps = (n: number, extra = "") =>
  `steps:\n${Array.from({ length: n }, (_, i) => `  - name: s${i}\n    command: echo ${i}${extra}\n`).join("")}`;

/** Creates a DAG from the spec, expects a 400 whose message matches, and that nothing was stored. */
async function refused(name: string, spec: string, message: RegExp) {
  const r = await api("POST", "/dags", { name, spec });
  expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(400);
  expect(r.body).toMatchObject({ code: "bad_request", message: expect.stringMatching(message) });
  expect((await api("GET", `/dags/${name}`)).status).toBe(404);
  return r;
}

describe("hostile DAG files", () => {
  it("refuses a few hundred bytes of nested aliases that expand past the limit, quickly", async () => {
    const spec = aliasBomb();
    expect(spec.length).toBeLessThan(500);
    await refused("bomb", spec, /aliases expanded is larger than 1 MiB/);
    const v = await api("POST", "/dags/validate", { spec });
    expect(v.status).toBe(200);
    expect(v.body.valid).toBe(false);
  });

  it("refuses an alias inside the collection it names", async () => {
    await refused(
      "cycle",
      "steps: &s\n  - name: s\n    command: echo\n    params: *s\n",
      /alias refers to a collection/,
    );
  });

  it.each([
    [
      "flow sequences",
      (n: number) => `steps:\n  - name: s\n    command: echo\n    env: ${"[".repeat(n)}${"]".repeat(n)}\n`,
    ],
    [
      "flow mappings",
      (n: number) => `steps:\n  - name: s\n    command: echo\n    env: ${"{a: ".repeat(n)}1${"}".repeat(n)}\n`,
    ],
    ["block sequences", (n: number) => `steps:\n  - name: s\n    command: echo\n    env:\n      ${"- ".repeat(n)}x\n`],
  ])("gives deeply nested %s the same 400 at every depth", async (_kind, nest) => {
    for (const depth of [MAX_YAML_DEPTH + 1, 1000, 5000, 40_000]) {
      const r = await refused(`deep${depth}`, nest(depth), new RegExp(`nested deeper than ${MAX_YAML_DEPTH} levels`));
      expect(r.body.details.errors).toHaveLength(1);
    }
  });

  it("refuses a spec over the size limit, naming it", async () => {
    const spec = `description: "${"x".repeat(MAX_SPEC_BYTES)}"\nsteps:\n  - name: s\n    command: echo\n`;
    await refused("huge", spec, /over the limit of 256 KiB for a spec/);
  });

  it("counts the spec limit in UTF-8 bytes", async () => {
    // Fewer characters than the limit, more bytes.
    const spec = `description: "${"é".repeat(MAX_SPEC_BYTES / 2 + 10)}"\nsteps:\n  - name: s\n    command: echo\n`;
    expect(spec.length).toBeLessThan(MAX_SPEC_BYTES);
    await refused("wide", spec, /over the limit of 256 KiB for a spec/);
  });

  it("refuses more steps than the limit, parallel items counted", async () => {
    await refused("many", steps(MAX_STEPS + 1), new RegExp(`${MAX_STEPS + 1} steps .*limit of ${MAX_STEPS} steps`));
    const items = Array.from({ length: MAX_STEPS + 1 }, (_, i) => i).join(",");
    await refused(
      "fan",
      `steps:\n  - name: p\n    command: echo $ITEM\n    parallel: [${items}]\n`,
      new RegExp(`limit of ${MAX_STEPS} steps`),
    );
  });

  it("stores a DAG of the largest step count", async () => {
    expect((await api("POST", "/dags", { name: "most", spec: steps(MAX_STEPS) })).status).toBe(201);
  });

  it("refuses a DAG whose parsed form would be too big to store", async () => {
    // In a chain, each member of a parallel group depends on every member of the group before it:
    // two groups of 100 steps with 200-character names are 40 KB of YAML and 2 MB of depends.
    const member = (p: string, i: number) => `{ name: ${p}${i}${"x".repeat(200)}, command: echo }`;
    const group = (p: string) => `  - [${Array.from({ length: 100 }, (_, i) => member(p, i)).join(", ")}]\n`;
    const spec = `steps:\n${group("a")}${group("b")}`;
    await refused("bulky", spec, new RegExp(`over the limit of ${MAX_STORED_DAG_BYTES} for a stored DAG`));
  });

  it("refuses a file name longer than a spec's name may be, and takes one of 40 characters", async () => {
    const spec = "name: short\nsteps:\n  - name: s\n    command: echo\n";
    const r = await api("POST", "/dags", { name: "x".repeat(41), spec });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: "bad_request", details: { field: "name" } });
    expect(r.body.message).toMatch(/at most 40 characters/);
    expect((await api("POST", "/dags", { name: "y".repeat(40), spec })).status).toBe(201);
  });
});
