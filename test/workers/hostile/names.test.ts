// Names and ids a path could not reach: refused when they are given, not when they are looked up.
import { describe, expect, it } from "vitest";
import { api, createDag } from "../helpers";

describe("run ids", () => {
  it("refuses `latest` as a run id, which paths read as the DAG's latest run", async () => {
    await createDag("ids", "steps:\n  - name: s\n    command: echo\n");
    const spec = "name: inline-ids\nsteps:\n  - name: s\n    command: echo\n";
    for (const [path, body] of [
      ["/dags/ids/start", { dagRunId: "latest" }],
      ["/dags/ids/enqueue", { dagRunId: "latest" }],
      ["/dag-runs", { spec, dagRunId: "latest" }],
    ] as const) {
      const r = await api("POST", path, body);
      expect(r.status, path).toBe(400);
      expect(r.body).toMatchObject({ code: "bad_request", details: { field: "dagRunId" } });
    }
    expect((await api("GET", "/dag-runs/ids/latest")).status).toBe(404);
  });
});
