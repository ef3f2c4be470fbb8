// dagflare start --context and --parameter-set, as a real process against the real local stack.
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildCli } from "../../scripts/build-cli.mjs";
import { type Stack, startStack, stepLogText, USER_TOKEN } from "../e2e/harness";
import { CliUser } from "./harness";

let stack: Stack;
let user: CliUser;

beforeAll(async () => {
  await buildCli();
  stack = await startStack({ runners: ["cli-inputs-runner"] });
  user = new CliUser({ DAGFLARE_SERVER: stack.url, DAGFLARE_TOKEN: USER_TOKEN });
});
afterAll(() => stack?.stop());

it("starts a run with the named context and parameter set, under the params given after --", async () => {
  const spec =
    'params:\n  - WHO: nobody\n  - HOW: quietly\nsteps:\n  - name: hi\n    command: echo "$GREETING $WHO $HOW"\n';
  expect((await stack.api("POST", "/dags", { name: "hi", spec })).status).toBe(201);
  expect((await stack.api("POST", "/contexts", { name: "friendly", variables: { GREETING: "hello" } })).status).toBe(
    201,
  );
  expect(
    (await stack.api("POST", "/parameter-sets", { name: "team", params: { WHO: "team", HOW: "softly" } })).status,
  ).toBe(201);
  const r = await user.run([
    "start",
    "hi",
    "--context",
    "friendly",
    "--parameter-set",
    "team",
    "--wait",
    "--json",
    "--",
    "HOW=loudly",
  ]);
  expect(r.code, r.stderr).toBe(0);
  const run = JSON.parse(r.stdout);
  expect(run.statusLabel).toBe("succeeded");
  expect(await stepLogText(stack, "hi", run.dagRunId, "hi")).toBe("hello team loudly");
});

it("says which parameter set does not exist, and exits non-zero", async () => {
  const r = await user.run(["start", "hi", "--parameter-set", "nope"]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain("parameter set nope does not exist");
});
