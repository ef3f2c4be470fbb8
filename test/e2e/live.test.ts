// The live socket against a real `wrangler dev` and a real runner: a step's lines arrive while
// the step is still running.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startDagRun, startStack, tempDir, USER_TOKEN } from "./harness";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: ["runner-live"] });
});

afterAll(async () => {
  await stack?.stop();
});

/** A socket that keeps every message; `until` resolves once a message satisfies a check. */
function liveSocket(url: string) {
  const ws = new WebSocket(url, ["dagflare.v1", `bearer.${USER_TOKEN}`]);
  const checks: Array<{ check: (m: any) => boolean; resolve: (m: any) => void }> = [];
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(String(e.data));
    for (const c of checks.splice(0)) {
      if (c.check(m)) c.resolve(m);
      else checks.push(c);
    }
  });
  return {
    ws,
    opened: new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("the live socket did not open")));
    }),
    until: (check: (m: any) => boolean) => new Promise<any>((resolve) => checks.push({ check, resolve })),
  };
}

describe("the live socket, end to end", () => {
  it("receives a running step's lines as the step prints them", async () => {
    const dir = tempDir("live");
    const go = path.join(dir, "go");
    // The step prints a line, then waits for the test's signal before printing the next.
    const spec = `steps:
  - name: talk
    script: |
      echo first line
      while [ ! -f ${go} ]; do sleep 0.05; done
      echo second line
`;
    const runId = await startDagRun(stack, "live-talk", spec);
    const socket = liveSocket(`${stack.url.replace(/^http/, "ws")}/api/v2/dag-runs/live-talk/${runId}/live`);
    const details = socket.until((m) => m.type === "details");
    await socket.opened;
    expect(socket.ws.protocol).toBe("dagflare.v1");
    expect((await details).dagRunDetails.dagRunId).toBe(runId);

    let shown = "";
    const shows = (text: string) =>
      socket.until((m) => {
        if (m.type !== "log") return false;
        shown = m.reset ? m.content : shown + m.content;
        return shown.includes(text);
      });
    const first = shows("first line");
    socket.ws.send(JSON.stringify({ type: "subscribe-log", stepName: "talk", stream: "stdout" }));
    await first;
    // The step cannot have finished: it waits for the file written below.
    expect(shown).not.toContain("second line");

    const second = shows("second line");
    const succeeded = socket.until((m) => m.type === "patch" && m.run.statusLabel === "succeeded");
    writeFileSync(go, "");
    await second;
    expect(shown).toBe("first line\nsecond line\n");
    const end = await succeeded;
    expect(end.nodes.find((n: any) => n.step.name === "talk")?.statusLabel).toBe("succeeded");
    socket.ws.close();
  });
});
