// The start dialog's context and parameter set, picked from the server's lists, in a real
// browser against the real stack, the run executed by a real runner.
import { afterAll, beforeAll, expect, it } from "vitest";
import { runEnded, stepLogText } from "../../test/e2e/harness";
import { screenshot, startUiStack, type UiStack } from "./browser";

let ui: UiStack;

beforeAll(async () => {
  ui = await startUiStack();
});
afterAll(async () => {
  await ui?.stop();
});

async function ok(method: string, path: string, body: unknown) {
  const r = await ui.stack.api(method, path, body);
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
}

it("starts a run with the context and parameter set picked in the dialog", async () => {
  const spec =
    'params:\n  - SIZE: small\n  - MODE: dry\nsteps:\n  - name: say\n    command: echo "$PLACE $SIZE $MODE"\n';
  await ok("POST", "/dags", { name: "picked", spec });
  await ok("POST", "/contexts", { name: "lab", description: "the test lab", variables: { PLACE: "lab" } });
  await ok("POST", "/parameter-sets", { name: "large", params: { SIZE: "large" } });
  const page = await ui.page();
  await page.goto("/dags/picked");
  await page.getByRole("button", { name: "Start picked" }).click();
  const dialog = page.getByRole("dialog", { name: "Start picked" });
  await dialog.getByLabel("Context").selectOption("lab");
  await dialog.getByLabel("Parameter set").selectOption("large");
  // The set's value shows in its field, over the DAG's default; a typed value wins over both.
  expect(await dialog.getByLabel("SIZE").inputValue()).toBe("large");
  await dialog.getByLabel("MODE").fill("wet");
  await screenshot(page, "start-dialog-inputs");
  await dialog.getByRole("button", { name: "Start run" }).click();
  await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/dags\/picked\/runs\/.+/);
  const runId = new URL(page.url()).pathname.split("/").pop() as string;
  expect((await runEnded(ui.stack, "picked", runId)).statusLabel).toBe("succeeded");
  expect(await stepLogText(ui.stack, "picked", runId, "say")).toBe("lab large wet");
  await page.close();
});
