// The environment a step starts from: the runner's own, read once per turn of its event loop.
import { setImmediate as nextTurn } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { keepRunnerEnv, PRIVATE_ENV, runnerEnv } from "../../runner/src/runner-env";

afterEach(() => {
  delete process.env.RUNNER_ENV_PROBE;
  delete process.env.DAGFLARE_RUNNER_TOKEN_FILE;
});

describe("the runner's environment for steps", () => {
  it("holds the runner's variables without the runner's credentials", async () => {
    await nextTurn();
    process.env.RUNNER_ENV_PROBE = "here";
    process.env.DAGFLARE_RUNNER_TOKEN_FILE = "/the/runner/token";
    const env = runnerEnv();
    expect(env.RUNNER_ENV_PROBE).toBe("here");
    for (const name of PRIVATE_ENV) expect(env).not.toHaveProperty(name);
  });

  it("sees a change made to the runner's environment from the next turn of its event loop on", async () => {
    await nextTurn();
    process.env.RUNNER_ENV_PROBE = "before";
    expect(runnerEnv().RUNNER_ENV_PROBE).toBe("before");
    process.env.RUNNER_ENV_PROBE = "after";
    await nextTurn();
    expect(runnerEnv().RUNNER_ENV_PROBE).toBe("after");
  });

  it("is read once per turn: the steps a reply brings share one copy", async () => {
    await nextTurn();
    const first = runnerEnv();
    process.env.RUNNER_ENV_PROBE = "later in the same turn";
    expect(runnerEnv()).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});

// Last in this file: keeping the environment lasts for the module's life, as in the runner program.
describe("the runner program's environment for steps", () => {
  it("is read once for the runner's life once kept: a later change is not seen", async () => {
    await nextTurn();
    keepRunnerEnv();
    process.env.RUNNER_ENV_PROBE = "at start";
    const first = runnerEnv();
    process.env.RUNNER_ENV_PROBE = "changed later";
    await nextTurn();
    expect(runnerEnv()).toBe(first);
    expect(runnerEnv().RUNNER_ENV_PROBE).toBe("at start");
  });
});
