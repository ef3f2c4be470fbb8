import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createContract, errorCodes } from "../support/contract";
import { contractText } from "../support/contract-document";

const yamlText = fs.readFileSync(
  path.resolve(import.meta.dirname, "../../../shared/contracts/dagu-api-v2.yaml"),
  "utf8",
);
const contract = createContract(yamlText);

const health = { status: "healthy", version: "1.2.3", uptime: 42, timestamp: "2026-11-23T08:00:00Z" };

function node(status: number, statusLabel: string) {
  return {
    step: { name: "s1" },
    stdout: "",
    stderr: "",
    startedAt: "2026-11-23T08:00:00Z",
    finishedAt: "-",
    status,
    statusLabel,
    retryCount: 1,
    doneCount: 0,
  };
}

function dagRunDetails(nodes: unknown[]) {
  return {
    dagRunDetails: {
      rootDAGRunName: "x",
      rootDAGRunId: "y",
      dagRunId: "y",
      name: "x",
      status: 7,
      statusLabel: "waiting",
      startedAt: "2026-11-23T08:00:00Z",
      finishedAt: "-",
      log: "",
      nodes,
    },
  };
}

/** A tiny contract for conversion rules the real one does not exercise. */
const miniYaml = `
openapi: "3.0.0"
info: { title: mini, version: "1" }
paths:
  /things/{id}:
    get:
      operationId: getThing
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Thing"
components:
  schemas:
    Thing:
      type: object
      required: [name, note, pattern]
      x-go-type: Thing
      example: { name: 1 }
      properties:
        name: { type: string, format: regex, example: 7 }
        note: { type: string, nullable: true }
        pattern: { type: string, format: "regex" }
`;

describe("createContract", () => {
  it("accepts a valid HealthResponse", () => {
    expect(contract.check("GET", "/api/v2/health", 200, health)).toEqual([]);
  });

  it("rejects a HealthResponse without uptime and names the missing field", () => {
    const { uptime: _, ...body } = health;
    const errors = contract.check("GET", "/api/v2/health", 200, body);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/uptime/);
  });

  it("rejects an Error body whose code is not in the ErrorCode enum", () => {
    const errors = contract.check("GET", "/api/v2/dag-runs/x/y", 404, { code: "teapot", message: "no" });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\/code: /);
  });

  it("accepts an Error body whose code is in the ErrorCode enum", () => {
    expect(contract.check("GET", "/api/v2/dag-runs/x/y", 404, { code: "not_found", message: "no" })).toEqual([]);
  });

  it("lists the ErrorCode enum values", () => {
    expect(errorCodes(contract)).toContain("not_found");
    expect(errorCodes(contract)).toContain("already_exists");
  });

  it("accepts DAGRunDetails with dagflare's extended statuses (run 7 waiting, node 9 retrying)", () => {
    const body = dagRunDetails([node(9, "retrying"), node(8, "rejected")]);
    expect(contract.check("GET", "/api/v2/dag-runs/x/y", 200, body)).toEqual([]);
  });

  it("rejects DAGRunDetails with a node statusLabel outside the extended enum", () => {
    const errors = contract.check("GET", "/api/v2/dag-runs/x/y", 200, dagRunDetails([node(9, "bogus")]));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\/dagRunDetails\/nodes\/0\/statusLabel: /);
  });

  it("rejects a node status code beyond the extended range", () => {
    const errors = contract.check("GET", "/api/v2/dag-runs/x/y", 200, dagRunDetails([node(10, "retrying")]));
    expect(errors).toEqual([expect.stringMatching(/^\/dagRunDetails\/nodes\/0\/status: /)]);
  });

  it("resolves /dags/validate to the validate operation rather than /dags/{fileName}", () => {
    // POST /dags/{fileName} does not exist, so only the literal template can accept this.
    expect(contract.check("POST", "/api/v2/dags/validate", 200, { valid: true, errors: [] })).toEqual([]);
    expect(() => contract.assert("POST", "/api/v2/dags/validate", 200, {})).toThrow(/validateDAGSpec/);
  });

  it("matches a path with a query string and percent-encoded parameters", () => {
    const body = { content: "hello", lineCount: 1, totalLines: 1, hasMore: false, isEstimate: false };
    expect(contract.check("GET", "/api/v2/dag-runs/my%20dag/0193abc/steps/s1/log?tail=5", 200, body)).toEqual([]);
    expect(contract.check("GET", "/api/v2/dag-runs/my%20dag/0193abc/steps/s1/log?tail=5", 200, {})).toHaveLength(1);
  });

  it("reports a path that is not in the contract", () => {
    expect(contract.check("GET", "/api/v2/nope/nothing", 200, {})).toEqual([
      "no path in the contract matches GET /api/v2/nope/nothing",
    ]);
  });

  it("reports a method the path does not have", () => {
    expect(contract.check("POST", "/api/v2/health", 200, health)).toEqual([
      "no operation POST /health in the contract",
    ]);
  });

  it("reports a success status the operation does not declare, even though it has a default", () => {
    expect(contract.check("GET", "/api/v2/dags/x", 201, {})).toEqual([
      "no response 201 for GET /dags/{fileName} in the contract",
    ]);
  });

  it("checks an undeclared error status against the default response", () => {
    expect(contract.check("GET", "/api/v2/dags/x", 418, { code: "bad_request", message: "m" })).toEqual([]);
    expect(contract.check("GET", "/api/v2/dags/x", 418, { message: "m" })).toHaveLength(1);
  });

  it("accepts a 204 with an empty body for DELETE /dags/{fileName}", () => {
    expect(contract.check("DELETE", "/api/v2/dags/x", 204, null)).toEqual([]);
    expect(contract.check("DELETE", "/api/v2/dags/x", 204, "")).toEqual([]);
  });

  it("rejects a body on a response that declares no content", () => {
    expect(contract.check("DELETE", "/api/v2/dags/x", 204, { ok: true })).toHaveLength(1);
  });

  it("throws from assert with the operation and every problem", () => {
    const { uptime: _, version: __, ...body } = health;
    expect(() => contract.assert("GET", "/api/v2/health", 200, body)).toThrow(
      /GET \/health \(getHealthStatus\) → 200[\s\S]*"version"[\s\S]*"uptime"/,
    );
  });

  it("does not throw from assert for a matching response", () => {
    expect(() => contract.assert("GET", "/api/v2/health", 200, health)).not.toThrow();
  });

  it("ignores format: regex, example and x-* keywords", () => {
    const mini = createContract(miniYaml);
    expect(mini.check("GET", "/things/1", 200, { name: "a(b", note: "n", pattern: "[" })).toEqual([]);
  });

  it("turns nullable: true into a type that also accepts null", () => {
    const mini = createContract(miniYaml);
    expect(mini.check("GET", "/things/1", 200, { name: "a", note: null, pattern: "p" })).toEqual([]);
    expect(mini.check("GET", "/things/1", 200, { name: null, note: null, pattern: "p" })).toHaveLength(1);
  });

  it("reports an undeclared status on an operation without a default", () => {
    const mini = createContract(miniYaml);
    expect(mini.check("GET", "/things/1", 418, {})).toEqual(["no response 418 for GET /things/{id} in the contract"]);
  });

  it("loads the same YAML text through Vite's ?raw import as from the file system", () => {
    expect(contractText).toBe(yamlText);
  });
});
