import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dispatcherFor } from "../../src/stubs";
import { createDag, RUNNER_TOKEN, startDag } from "./helpers";

const POOL = "pump-race";

/** A runner's socket in POOL; `call` resolves with the answer to one call. */
async function openSocket(runnerId: string) {
  const query = new URLSearchParams({ runnerId, labels: JSON.stringify({ pool: POOL }) });
  const res = await exports.default.fetch(`http://dagflare.test/api/v2/runners/socket?${query}`, {
    headers: { upgrade: "websocket", authorization: `Bearer ${RUNNER_TOKEN}` },
  });
  const ws = res.webSocket;
  if (res.status !== 101 || !ws) expect.fail(`socket refused: ${res.status} ${await res.text()}`);
  ws.accept();
  const waiting = new Map<number, (m: { status: number; body: any }) => void>();
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(e.data as string);
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  let nextId = 1;
  return {
    ws,
    call(path: string, body: unknown) {
      const id = nextId++;
      const answer = new Promise<{ status: number; body: any }>((resolve) => waiting.set(id, resolve));
      ws.send(JSON.stringify({ id, path, body }));
      return answer;
    },
  };
}

describe("a runner waiting on its socket", () => {
  it("gets a step that arrives while the pool is busy claiming a stale task for it", async () => {
    await createDag("pump-race", `workerSelector: {pool: ${POOL}}\nsteps:\n  - name: only\n    command: "true"\n`);
    const runId = await startDag("pump-race");
    const dispatcher = dispatcherFor(env, POOL);
    // The step's task, taken off the queue for now: the runner asks while nothing is pending.
    const task = await runInDurableObject(dispatcher, (_o, state) => {
      const row = state.storage.sql
        .exec<{ step: string; dispatch_seq: number }>("SELECT step, dispatch_seq FROM tasks WHERE run_id = ?", runId)
        .one();
      state.storage.sql.exec("DELETE FROM tasks WHERE run_id = ?", runId);
      return { runId, step: row.step, dispatchSeq: row.dispatch_seq, selector: { pool: POOL } };
    });
    const s = await openSocket("pump-racer");
    const asked = s.call("/lease", { runnerId: "pump-racer", max: 1 });
    // Answered after the lease request was read: from here on the request waits for work.
    expect((await s.call("/leases/nope/heartbeat", { token: "t" })).status).toBe(404);

    await runInDurableObject(dispatcher, (o) => {
      // A stale task first: the pass it starts takes the waiting request off the socket while
      // the run refuses the claim. The step's own task arrives during that claim.
      o.enqueue([{ ...task, dispatchSeq: task.dispatchSeq + 7 }]);
      o.enqueue([task]);
    });

    const reply = await asked;
    expect(reply.status).toBe(200);
    expect(reply.body.leases.map((l: { stepName: string }) => l.stepName)).toEqual(["only"]);
    s.ws.close();
  });
});
