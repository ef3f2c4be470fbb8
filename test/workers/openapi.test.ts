import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { apiContract } from "../support/contract-document";

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

/** The operations the Worker routes under /api/v2, as OpenAPI keys (`get /dags/{fileName}`). */
function routed(): Set<string> {
  return new Set(
    app.routes
      .filter((r) => r.method !== "ALL" && r.path.startsWith("/api/v2/"))
      .map((r) => `${r.method.toLowerCase()} ${r.path.slice("/api/v2".length).replace(/:(\w+)/g, "{$1}")}`),
  );
}

describe("GET /openapi.json", () => {
  it("serves one OpenAPI 3.0 document without authentication", async () => {
    const doc = await document();
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(doc.servers).toEqual([
      { url: "/api/v2", description: expect.any(String) },
      expect.objectContaining({ url: "/api/v1" }),
    ]);
  });

  it("says the API is also served under /api/v1, the runner protocol only under /api/v2", async () => {
    const doc = await document();
    expect(doc.servers.map((s: { url: string }) => s.url)).toEqual(["/api/v2", "/api/v1"]);
    expect(doc.paths["/dags"].servers).toBeUndefined();
    expect(doc.paths["/runners/lease"].servers).toEqual([{ url: "/api/v2", description: expect.any(String) }]);
  });

  it("lists every operation the Worker routes, and no other", async () => {
    const listed = new Set(operations(await document()).map(([m, p]) => `${m} ${p}`));
    const routes = routed();
    expect(
      [...routes].filter((op) => !listed.has(op)),
      "routed but not in the document",
    ).toEqual([]);
    expect(
      [...listed].filter((op) => !routes.has(op)),
      "in the document but not routed",
    ).toEqual([]);
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
      expect(listed.has(op), op).toBe(true);
    }
  });

  it("keeps the contract's request bodies, parameters and answers on each of Dagu's operations it serves", async () => {
    const doc = await document();
    const contract = apiContract().document as any;
    let compared = 0;
    for (const [m, p] of operations(contract)) {
      const served = doc.paths[p]?.[m];
      if (!served) continue;
      const base = contract.paths[p][m];
      compared++;
      expect(served.operationId, `${m} ${p}`).toBe(base.operationId);
      // dagflare may add fields to a request body, never take the contract's away.
      const body = served.requestBody?.content?.["application/json"]?.schema;
      const baseBody = base.requestBody?.content?.["application/json"]?.schema;
      if (baseBody?.$ref && body?.allOf) expect(body.allOf[0], `${m} ${p}`).toEqual(baseBody);
      else if (base.requestBody) expect(served.requestBody, `${m} ${p}`).toMatchObject(base.requestBody);
      else expect(served.requestBody, `${m} ${p}`).toBeUndefined();
      expect(served.parameters ?? [], `${m} ${p}`).toEqual(expect.arrayContaining(base.parameters ?? []));
      expect(Object.keys(served.responses).sort(), `${m} ${p}`).toEqual(Object.keys(base.responses).sort());
      for (const [status, answer] of Object.entries(base.responses)) {
        if (status !== "200" || !served["x-dagflare-extended"])
          expect(served.responses[status], `${m} ${p} ${status}`).toEqual(answer);
      }
    }
    expect(compared).toBeGreaterThan(35);
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
