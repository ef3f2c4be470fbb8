// Contexts and parameter sets: their CRUD, the refusals that keep every stored context
// resolvable, and what a run started with them gets (read from the step's lease, as a runner
// would receive it).
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CreateApiKeyResponse } from "../../src/access/api-keys";
import { ContextDetails, ContextInfo, ContextList } from "../../src/inputs/contexts";
import { ParameterSetInfo, ParameterSetList } from "../../src/inputs/parameter-sets";
import { MAX_CONTEXT_DEPTH } from "../../src/limits";
import { RunInputs } from "../../src/routes/run-inputs";
import { api, complete, createDag, extApi, lease, startDag } from "./helpers";

const putContext = (name: string, body: Record<string, unknown>) =>
  extApi("PUT", `/contexts/${name}`, body, ContextInfo);
const newContext = (body: Record<string, unknown>) => extApi("POST", "/contexts", body, ContextInfo);
const newSet = (body: Record<string, unknown>) => extApi("POST", "/parameter-sets", body, ParameterSetInfo);
const getContext = (name: string) => extApi("GET", `/contexts/${name}`, undefined, ContextDetails);
/** A DELETE answers 204 with no body. */
const del = (path: string) => extApi("DELETE", path, undefined, z.null());

/** Starts `dag` and returns the env its single step is leased with. */
async function envOfStart(dag: string, body: Record<string, unknown>): Promise<Record<string, string>> {
  await startDag(dag, body);
  const [l] = await lease();
  expect(l, "a leased step").toBeDefined();
  await complete(l, 0);
  return l.exec.env;
}

async function keyWithRole(role: string) {
  const r = await extApi("POST", "/api-keys", { name: `as ${role}`, role }, CreateApiKeyResponse);
  return r.body.key as string;
}

describe("contexts", () => {
  it("are created, read with their resolved variables, listed, replaced and deleted", async () => {
    expect((await newContext({ name: "base", variables: { REGION: "eu", TIER: "1" } })).status).toBe(201);
    const made = await newContext({ name: "prod", description: "live", variables: { TIER: "3" }, extends: "base" });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const read = await getContext("prod");
    expect(read.body).toMatchObject({
      extends: "base",
      variables: { TIER: "3" },
      resolved: { REGION: "eu", TIER: "3" },
    });
    const list = await extApi("GET", "/contexts", undefined, ContextList);
    expect(list.body.contexts.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(["base", "prod"]));
    const replaced = await putContext("prod", { variables: { TIER: "4" } });
    expect(replaced.body).toMatchObject({ variables: { TIER: "4" }, createdAt: made.body.createdAt });
    expect(replaced.body.extends).toBeUndefined();
    expect((await del("/contexts/prod")).status).toBe(204);
    expect((await getContext("prod")).status).toBe(404);
  });

  it("refuses a variable that is not an environment variable name with 400 naming it, storing nothing", async () => {
    const r = await newContext({ name: "bad-vars", variables: { "not-a-name": "x" } });
    expect(r.status).toBe(400);
    expect(r.body.details.fields).toEqual(["variables.not-a-name"]);
    expect((await getContext("bad-vars")).status).toBe(404);
  });

  it("refuses a name outside the pattern with 400 naming the field", async () => {
    const r = await newContext({ name: "../etc", variables: {} });
    expect(r.status).toBe(400);
    expect(r.body.details.fields).toEqual(["name"]);
  });

  it("refuses extending a context that does not exist with 400 naming extends", async () => {
    const r = await newContext({ name: "orphan", variables: {}, extends: "nowhere" });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ message: "extends: context nowhere does not exist", details: { field: "extends" } });
    expect((await getContext("orphan")).status).toBe(404);
  });

  it("refuses an edit that would make extends a cycle, leaving the context as it was", async () => {
    await newContext({ name: "ring-a", variables: { A: "1" } });
    await newContext({ name: "ring-b", variables: {}, extends: "ring-a" });
    const r = await putContext("ring-a", { variables: { A: "2" }, extends: "ring-b" });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      message: "extends: ring-b already extends ring-a, a cycle",
      details: { field: "extends" },
    });
    expect((await getContext("ring-a")).body).toMatchObject({ variables: { A: "1" } });
    expect((await getContext("ring-a")).body.extends).toBeUndefined();
  });

  it(`refuses a chain of extends longer than ${MAX_CONTEXT_DEPTH} contexts`, async () => {
    await newContext({ name: "deep-1", variables: {} });
    for (let i = 2; i <= MAX_CONTEXT_DEPTH; i++) {
      const r = await newContext({ name: `deep-${i}`, variables: {}, extends: `deep-${i - 1}` });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const r = await newContext({ name: "too-deep", variables: {}, extends: `deep-${MAX_CONTEXT_DEPTH}` });
    expect(r.status).toBe(400);
    expect(r.body.details).toEqual({ field: "extends" });
  });

  it("refuses deleting a context another extends with 409", async () => {
    await newContext({ name: "parent", variables: {} });
    await newContext({ name: "child", variables: {}, extends: "parent" });
    const r = await del("/contexts/parent");
    expect(r.status).toBe(409);
    expect(r.body.message).toContain("child");
    expect((await getContext("parent")).status).toBe(200);
  });

  it("refuses a second context of the same name with 409", async () => {
    await newContext({ name: "twice", variables: { A: "1" } });
    const r = await newContext({ name: "twice", variables: { A: "2" } });
    expect(r.status).toBe(409);
    expect((await getContext("twice")).body.variables).toEqual({ A: "1" });
  });

  it("are read by a viewer and written by a developer, not by an operator", async () => {
    const viewer = await keyWithRole("viewer");
    const operator = await keyWithRole("operator");
    const developer = await keyWithRole("developer");
    expect((await extApi("GET", "/contexts", undefined, ContextList, viewer)).status).toBe(200);
    expect((await extApi("POST", "/contexts", { name: "by-op", variables: {} }, ContextInfo, operator)).status).toBe(
      403,
    );
    expect((await extApi("POST", "/contexts", { name: "by-dev", variables: {} }, ContextInfo, developer)).status).toBe(
      201,
    );
    expect(
      (await extApi("POST", "/parameter-sets", { name: "by-op", params: {} }, ParameterSetInfo, operator)).status,
    ).toBe(403);
  });
});

describe("parameter sets", () => {
  it("are created, read, listed, replaced and deleted", async () => {
    expect((await newSet({ name: "nightly", params: { DAYS: 7, FULL: true } })).status).toBe(201);
    const read = await extApi("GET", "/parameter-sets/nightly", undefined, ParameterSetInfo);
    expect(read.body.params).toEqual({ DAYS: "7", FULL: "true" });
    const list = await extApi("GET", "/parameter-sets", undefined, ParameterSetList);
    expect(list.body.parameterSets.map((s: { name: string }) => s.name)).toContain("nightly");
    const put = await extApi("PUT", "/parameter-sets/nightly", { params: { DAYS: "1" } }, ParameterSetInfo);
    expect(put.body.params).toEqual({ DAYS: "1" });
    expect((await del("/parameter-sets/nightly")).status).toBe(204);
    expect((await del("/parameter-sets/nightly")).status).toBe(404);
  });

  it("refuses a param that is an object with 400 naming it", async () => {
    const r = await newSet({ name: "nested", params: { OK: "1", BAD: { deep: 1 } } });
    expect(r.status).toBe(400);
    expect(r.body.details.fields).toEqual(["params.BAD"]);
  });
});

const ECHO = (env = "") =>
  `params:\n  - A: dag-a\n  - B: dag-b\n  - C: dag-c\n${env}steps:\n  - name: show\n    command: env\n`;

describe("a start with a context and a parameter set", () => {
  it("gives params by precedence: the start's own, then the set's, then the DAG's defaults", async () => {
    await createDag("prec", ECHO());
    await newSet({ name: "prec-set", params: { B: "set-b", C: "set-c", D: "set-d" } });
    const env = await envOfStart("prec", { parameterSet: "prec-set", params: "C=own-c" });
    expect(env).toMatchObject({ A: "dag-a", B: "set-b", C: "own-c", D: "set-d" });
  });

  it("places the context's variables under the DAG's env: the DAG's own env wins and may use them", async () => {
    await createDag("ctx", ECHO("env:\n  - COLOR: blue\n  - URL: https://${REGION}.example\n"));
    await newContext({ name: "ctx-base", variables: { REGION: "us", COLOR: "red", LEVEL: "base" } });
    await newContext({ name: "ctx-eu", variables: { REGION: "eu" }, extends: "ctx-base" });
    const env = await envOfStart("ctx", { context: "ctx-eu" });
    expect(env).toMatchObject({ REGION: "eu", COLOR: "blue", LEVEL: "base", URL: "https://eu.example" });
  });

  it("is taken by the enqueue operation too", async () => {
    await createDag("ctx-q", ECHO());
    await newContext({ name: "ctx-q", variables: { QUEUED: "yes" } });
    const r = await api("POST", "/dags/ctx-q/enqueue", { context: "ctx-q" });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const [l] = await lease();
    expect(l.exec.env.QUEUED).toBe("yes");
    await complete(l, 0);
  });

  it("refuses an unknown context with 400 naming the field, and creates no run", async () => {
    await createDag("no-ctx", ECHO());
    const r = await api("POST", "/dags/no-ctx/start", { context: "missing" });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ message: "context missing does not exist", details: { field: "context" } });
    expect((await api("GET", "/dags/no-ctx/dag-runs")).body.dagRuns).toEqual([]);
  });

  it("refuses an unknown parameter set with 400 naming the field", async () => {
    await createDag("no-set", ECHO());
    const r = await api("POST", "/dags/no-set/start", { parameterSet: "missing" });
    expect(r.status).toBe(400);
    expect(r.body.details).toEqual({ field: "parameterSet" });
  });

  it("keeps the values it started with on retry, though the context and set changed since", async () => {
    await createDag("keep", ECHO());
    await newContext({ name: "keep-ctx", variables: { STAGE: "first" } });
    await newSet({ name: "keep-set", params: { A: "first" } });
    const runId = await startDag("keep", { context: "keep-ctx", parameterSet: "keep-set" });
    const [l] = await lease();
    await complete(l, 1);
    await putContext("keep-ctx", { variables: { STAGE: "second" } });
    await extApi("PUT", "/parameter-sets/keep-set", { params: { A: "second" } }, ParameterSetInfo);
    expect((await api("POST", `/dag-runs/keep/${runId}/retry`, { dagRunId: runId })).status).toBe(200);
    const [again] = await lease();
    expect(again.exec.env).toMatchObject({ STAGE: "first", A: "first" });
    await complete(again, 0);
    const recorded = await extApi("GET", `/dag-runs/keep/${runId}/inputs`, undefined, RunInputs);
    expect(recorded.body).toEqual({
      context: "keep-ctx",
      parameterSet: "keep-set",
      variables: { STAGE: "first" },
      params: { A: "first" },
    });
  });

  it("uses the DAG's own context and parameterSet keys when a start names none, as a scheduled start does", async () => {
    await createDag("keyed", `context: keyed-ctx\nparameter_set: keyed-set\n${ECHO()}`);
    await newContext({ name: "keyed-ctx", variables: { WHERE: "from-key" } });
    await newSet({ name: "keyed-set", params: { B: "from-key" } });
    expect(await envOfStart("keyed", {})).toMatchObject({ WHERE: "from-key", B: "from-key" });
    await newContext({ name: "keyed-other", variables: { WHERE: "named" } });
    expect(await envOfStart("keyed", { context: "keyed-other" })).toMatchObject({ WHERE: "named", B: "from-key" });
  });

  it("refuses a DAG whose context key is not a valid name, saying which key", async () => {
    const r = await api("POST", "/dags/validate", { spec: `context: "a b"\n${ECHO()}` });
    expect(r.body.valid).toBe(false);
    expect(r.body.errors.join("\n")).toContain('context: invalid context name "a b"');
  });
});
