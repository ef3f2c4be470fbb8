import { describe, expect, it } from "vitest";
import { api, createDag } from "./helpers";

const SPEC = `description: two steps
tags: [etl, nightly]
group: Analytics
steps:
  - name: extract
    command: echo extract
  - name: load
    command: echo load
`;

describe("/dags", () => {
  it("creates a DAG and serves its details and spec", async () => {
    await createDag("etl", SPEC);
    const got = await api("GET", "/dags/etl");
    expect(got.status).toBe(200);
    expect(got.body.dag.name).toBe("etl");
    expect(got.body.dag.group).toBe("Analytics");
    expect(got.body.dag.steps.map((s: { name: string }) => s.name)).toEqual(["extract", "load"]);
    expect(got.body.dag.steps[1].depends).toEqual(["extract"]);
    expect(got.body.latestDAGRun.statusLabel).toBe("not_started");
    const spec = await api("GET", "/dags/etl/spec");
    expect(spec.body.spec).toBe(SPEC);
  });

  it("lists DAGs with their tags and pagination, filtered by tag", async () => {
    await createDag("tagged", SPEC);
    await createDag("plain", "steps:\n  - name: a\n    command: 'true'\n");
    const all = await api("GET", "/dags");
    const names = all.body.dags.map((d: { fileName: string }) => d.fileName);
    expect(names).toEqual([...names].sort((a: string, b: string) => a.localeCompare(b, "en", { sensitivity: "base" })));
    expect(names).toEqual(expect.arrayContaining(["plain", "tagged"]));
    expect(all.body.pagination).toMatchObject({ totalRecords: names.length, currentPage: 1, totalPages: 1 });
    const byTag = await api("GET", "/dags?tag=nightly");
    const tagged = byTag.body.dags.map((d: { fileName: string }) => d.fileName);
    expect(tagged).toContain("tagged");
    expect(tagged).not.toContain("plain");
  });

  it("refuses a second DAG with the same name with 409 already_exists", async () => {
    await createDag("twice", SPEC);
    const again = await api("POST", "/dags", { name: "twice", spec: SPEC });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("already_exists");
  });

  it("refuses a name outside the contract's pattern and stores nothing", async () => {
    const r = await api("POST", "/dags", { name: "bad name!", spec: SPEC });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("bad_request");
    expect(r.body.message).toContain("bad name!");
    expect((await api("GET", "/dags?name=bad")).body.dags).toEqual([]);
  });

  it("refuses an invalid spec listing every problem with its line, and stores nothing", async () => {
    const bad = `steps:
  - name: a
    command: echo a
    depends: [ghost]
  - name: a
    command: echo again
    colour: blue
`;
    const r = await api("POST", "/dags", { name: "broken", spec: bad });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("bad_request");
    const errors: string[] = r.body.details.errors;
    expect(errors.some((e) => /line 4/.test(e) && /ghost/.test(e))).toBe(true);
    expect(errors.some((e) => /duplicate/i.test(e))).toBe(true);
    expect(errors.some((e) => /line 7/.test(e) && /colour/.test(e))).toBe(true);
    expect((await api("GET", "/dags/broken")).status).toBe(404);
  });

  it("reports malformed YAML with its line", async () => {
    const r = await api("POST", "/dags/validate", { spec: "steps:\n  - name: a\n    command: [unclosed\n" });
    expect(r.status).toBe(200);
    expect(r.body.valid).toBe(false);
    expect(r.body.errors.join("\n")).toMatch(/line \d+/);
  });

  it("validates a good spec without storing it", async () => {
    const r = await api("POST", "/dags/validate", { spec: SPEC, name: "check" });
    expect(r.body).toMatchObject({ valid: true, errors: [] });
    expect(r.body.dag.name).toBe("check");
    expect((await api("GET", "/dags/check")).status).toBe(404);
  });

  it("validates a spec that names no DAG, as Dagu does (only storing needs a name)", async () => {
    const r = await api("POST", "/dags/validate", { spec: "steps:\n  - name: a\n    command: echo\n" });
    expect(r.body).toMatchObject({ valid: true, errors: [] });
    const named = await api("POST", "/dags/validate", { spec: "name: mine\nsteps:\n  - name: a\n    command: echo\n" });
    expect(named.body.dag.name).toBe("mine");
  });

  it("replaces a spec only when the new one is valid", async () => {
    await createDag("edit", SPEC);
    const good = "steps:\n  - name: only\n    command: echo only\n";
    expect((await api("PUT", "/dags/edit/spec", { spec: good })).status).toBe(200);
    expect((await api("GET", "/dags/edit/spec")).body.spec).toBe(good);
    const bad = await api("PUT", "/dags/edit/spec", { spec: "steps: 3\n" });
    expect(bad.status).toBe(400);
    expect((await api("GET", "/dags/edit/spec")).body.spec).toBe(good);
  });

  it("deletes a DAG, and says not_found for one that does not exist", async () => {
    await createDag("gone", SPEC);
    expect((await api("DELETE", "/dags/gone")).status).toBe(204);
    const again = await api("DELETE", "/dags/gone");
    expect(again.status).toBe(404);
    expect(again.body.code).toBe("not_found");
  });

  it("answers malformed JSON with 400 bad_request", async () => {
    const r = await api("POST", "/dags", "{not json");
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/not valid JSON/);
  });

  it("refuses a body over the size limit with 413", async () => {
    const r = await api("POST", "/dags/validate", { spec: `# ${"x".repeat(1_100_000)}\n` });
    expect(r.status).toBe(413);
  });
});

describe("/dags listing and search", () => {
  it("lists every tag once, sorted", async () => {
    await createDag("t1", "tags: [beta, alpha]\nsteps:\n  - echo\n");
    await createDag("t2", "tags: alpha, gamma\nsteps:\n  - echo\n");
    const r = await api("GET", "/dags/tags");
    expect(r.body.tags).toEqual(expect.arrayContaining(["alpha", "beta", "gamma"]));
    expect(r.body.tags).toEqual([...new Set(r.body.tags)].sort());
  });

  it("finds DAGs whose spec contains the text, each match with two lines of context on each side", async () => {
    await createDag(
      "needle",
      "description: d\nsteps:\n  - name: find\n    command: echo Haystack-Needle\n  - name: b\n    command: echo b\n  - name: c\n    command: echo c\n",
    );
    const r = await api("GET", "/dags/search?q=haystack-needle");
    expect(r.body.results).toEqual([
      expect.objectContaining({
        name: "needle",
        matches: [
          {
            line: "steps:\n  - name: find\n    command: echo Haystack-Needle\n  - name: b\n    command: echo b",
            lineNumber: 4,
            startLine: 2,
          },
        ],
      }),
    ]);
    expect((await api("GET", "/dags/search?q=no-such-text-anywhere")).body.results).toEqual([]);
    expect((await api("GET", "/dags/search")).status).toBe(400);
  });

  it("reads the search text as a regular expression in any case, as Dagu does", async () => {
    await createDag("regex-find", "steps:\n  - name: x\n    command: echo Alpha-42\n");
    const r = await api("GET", `/dags/search?q=${encodeURIComponent("alpha-[0-9]+$")}`);
    expect(r.body.results.map((x: { name: string }) => x.name)).toEqual(["regex-find"]);
    expect(r.body.results[0].matches).toEqual([
      { line: "steps:\n  - name: x\n    command: echo Alpha-42", lineNumber: 3, startLine: 1 },
    ]);
  });

  it("gives a match on the last line no empty line of context after it", async () => {
    await createDag("last-line", "steps:\n  - name: x\n    command: echo zebra-tail\n");
    const [hit] = (await api("GET", "/dags/search?q=zebra-tail")).body.results;
    expect(hit.matches[0].line).toBe("steps:\n  - name: x\n    command: echo zebra-tail");
  });

  it("refuses a search text that is not a regular expression, naming q", async () => {
    const r = await api("GET", `/dags/search?q=${encodeURIComponent("echo (")}`);
    expect(r.status).toBe(400);
    expect(r.body.details).toEqual({ field: "q" });
    expect(r.body.message).toContain("q is not a regular expression");
  });

  it("sorts by name case-insensitively in either order and pages", async () => {
    for (const n of ["Bravo", "alpha", "charlie"]) await createDag(`sort-${n}`, "steps:\n  - echo\n");
    const asc = await api("GET", "/dags?name=sort-&order=asc");
    expect(asc.body.dags.map((d: { fileName: string }) => d.fileName)).toEqual([
      "sort-alpha",
      "sort-Bravo",
      "sort-charlie",
    ]);
    const desc = await api("GET", "/dags?name=sort-&order=desc&perPage=2&page=1");
    expect(desc.body.dags.map((d: { fileName: string }) => d.fileName)).toEqual(["sort-charlie", "sort-Bravo"]);
    expect(desc.body.pagination).toMatchObject({ totalRecords: 3, totalPages: 2, nextPage: 2 });
    const beyond = await api("GET", "/dags?name=sort-&perPage=2&page=5");
    expect(beyond.body.dags).toEqual([]);
  });
});
