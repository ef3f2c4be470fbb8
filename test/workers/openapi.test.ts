import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { NOT_SERVED } from "../../src/openapi/document";
import { apiContract } from "../support/contract-document";
import { USER_TOKEN } from "./helpers";

const METHODS = ["get", "put", "post", "delete", "patch"];

async function document(): Promise<any> {
  const res = await exports.default.fetch("http://dagflare.test/api/v2/openapi.json");
  expect(res.status).toBe(200);
  return res.json();
}

function operations(doc: any): Array<[string, string]> {
  return Object.entries(doc.paths).flatMap(([path, ops]: [string, any]) =>
    METHODS.filter((m) => ops[m]).map((m): [string, string] => [m, path]),
  );
}

/** Calls an operation with placeholder path values and an empty body; the answer's body. */
async function call(method: string, path: string): Promise<{ status: number; body: any }> {
  const url = `http://dagflare.test/api/v2${path.replace(/\{[^}]+\}/g, "doc-check")}`;
  const res = await exports.default.fetch(url, {
    method: method.toUpperCase(),
    headers: { authorization: `Bearer ${USER_TOKEN}`, "content-type": "application/json" },
    body: method === "get" || method === "delete" ? undefined : "{}",
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith("{") ? JSON.parse(text) : text };
}

const noRoute = (r: { status: number; body: any }) =>
  r.status === 404 && typeof r.body?.message === "string" && r.body.message.startsWith("no route");

describe("GET /openapi.json", () => {
  it("serves one OpenAPI 3.0 document without authentication", async () => {
    const doc = await document();
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(doc.servers).toEqual([{ url: "/api/v2", description: expect.any(String) }]);
  });

  it("holds every operation of Dagu's contract that dagflare serves, and dagflare's additions", async () => {
    const doc = await document();
    const served = new Set(operations(doc).map(([m, p]) => `${m} ${p}`));
    const contractOps = operations(apiContract().document);
    const skipped = new Set(NOT_SERVED.map(([m, p]) => `${m} ${p}`));
    for (const [m, p] of contractOps)
      expect(served.has(`${m} ${p}`) || skipped.has(`${m} ${p}`), `${m} ${p}`).toBe(true);
    for (const op of [
      "post /runners/lease",
      "get /dag-runs/{name}/{dagRunId}/live",
      "get /dag-runs/{name}/{dagRunId}/sub-dag-runs/{subDAGRunId}/live",
      "post /runner-tokens",
      "put /queues/{name}",
      "get /dag-runs/{name}/{dagRunId}/outputs",
      "post /dag-runs/{name}/{dagRunId}/steps/{stepName}/approve",
      "post /dag-runs/cleanup",
    ]) {
      expect(served.has(op), op).toBe(true);
    }
  });

  it("lists only operations the Worker routes, and none of those it leaves out", async () => {
    const doc = await document();
    for (const [m, p] of operations(doc)) expect(noRoute(await call(m, p)), `${m} ${p}`).toBe(false);
    for (const [m, p] of NOT_SERVED) expect(noRoute(await call(m, p)), `${m} ${p}`).toBe(true);
  });

  it("resolves every $ref it holds", async () => {
    const doc = await document();
    const refs: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
          if (k === "$ref" && typeof x === "string") refs.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(100);
    for (const ref of new Set(refs)) {
      const target = ref
        .replace(/^#\//, "")
        .split("/")
        .reduce((o: any, k) => o?.[k], doc);
      expect(target, ref).toBeDefined();
    }
  });

  it("describes dagflare's additions to Dagu's operations where they are", async () => {
    const doc = await document();
    const list = doc.paths["/dags"].get;
    expect(list.parameters.map((p: any) => p.name ?? p.$ref)).toEqual(
      expect.arrayContaining(["#/components/parameters/Page", "tag", "status"]),
    );
    expect(doc.components.schemas.DAGFile.properties.recentRuns.maxItems).toBe(10);
    const runs = doc.paths["/dag-runs"].get.responses["200"].content["application/json"].schema;
    expect(runs.properties.pagination).toEqual({ $ref: "#/components/schemas/Pagination" });
    expect(doc.components.schemas.StatusLabel.enum).toContain("waiting");
    expect(doc.components.securitySchemes).not.toHaveProperty("basicAuth");
  });
});
