// A runner's socket under a real runner process: leases are pushed and results sent over it;
// when it drops and cannot open again, the runner finishes its work over HTTP.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startRunner } from "../../scripts/stack.mjs";
import { CutProxy } from "../support/cut-proxy";
import { RUNNER_TOKEN, runEnded, type Stack, startDagRun, startStack, waitFor } from "./harness";

let stack: Stack;
let proxy: CutProxy;
let runner: ReturnType<typeof startRunner>;

beforeAll(async () => {
  stack = await startStack({ runners: [] });
  const { hostname, port } = new URL(stack.url);
  proxy = new CutProxy({ host: hostname, port: Number(port) });
  runner = startRunner({ server: await proxy.start(), token: RUNNER_TOKEN, concurrency: 1, id: "socket-e2e" });
});

afterAll(async () => {
  runner?.child.kill("SIGKILL");
  await proxy?.stop();
  await stack?.stop();
});

const said = (text: string) => runner.output.some((line) => line.includes(text));

it("finishes a run over HTTP when its socket drops mid-run and cannot open again", async () => {
  await waitFor("the runner's socket to open", async () => said("socket open"));
  const steps = Array.from({ length: 6 }, (_, i) => `  - name: s${i}\n    command: sleep 0.3\n`).join("");
  const runId = await startDagRun(stack, "socket-drop", `steps:\n${steps}`);
  await waitFor("the first step to start", async () => said("socket-drop/s0#1") && said("started pid"));
  // Every connection drops; from now on only plain HTTP gets through.
  proxy.refuseSockets = true;
  proxy.cut("refuse");
  proxy.restore();
  const d = await runEnded(stack, "socket-drop", runId, 60_000);
  expect(d.statusLabel).toBe("succeeded");
  expect(d.nodes.map((n: { status: number }) => n.status)).toEqual([4, 4, 4, 4, 4, 4]);
  expect(said("socket closed")).toBe(true);
  expect(proxy.stats.dropped).toBeGreaterThan(0);
});
