// Users and roles in the browser: an admin creates a viewer; the viewer signs in with a user
// name and password, sees who they are, sees no start or stop buttons, and the API refuses them
// when they try anyway. An empty list of API keys says how to make one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, startDagRun } from "../../test/e2e/harness";
import { startUiStack, type UiStack } from "./browser";

let ui: UiStack;
beforeAll(async () => {
  ui = await startUiStack();
});
afterAll(async () => {
  await ui?.stop();
});

describe("users and roles in the web UI", () => {
  it("says there are no API keys yet and how to make one, until one is made", async () => {
    const page = await ui.page();
    await page.getByRole("navigation", { name: "main" }).getByRole("link", { name: "Users" }).click();
    const keys = page.getByRole("region", { name: "API keys" });
    await keys.getByText("No API keys yet. Create one above").waitFor();
    expect(await keys.getByRole("table", { name: "API keys" }).count()).toBe(0);

    const form = keys.getByRole("form", { name: "new API key" });
    await form.getByLabel("Name").fill("nightly-ci");
    await form.getByRole("button", { name: "Create API key" }).click();
    await keys
      .getByRole("table", { name: "API keys" })
      .getByRole("cell", { name: "nightly-ci", exact: true })
      .waitFor();
    expect(await keys.getByText("No API keys yet").count()).toBe(0);
    await page.close();
  });

  it("lets an admin create a viewer who signs in, sees no start or stop buttons and is refused by the API", async () => {
    const runId = await startDagRun(ui.stack, "roles-ui", "steps:\n  - command: sleep 30\n");

    const admin = await ui.page();
    await admin.getByRole("navigation", { name: "main" }).getByRole("link", { name: "Users" }).click();
    const form = admin.getByRole("form", { name: "new user" });
    await form.getByLabel("User name").fill("vera");
    await form.getByLabel("Password").fill("vera's long password");
    await form.getByLabel("Role").selectOption("viewer");
    await form.getByRole("button", { name: "Create user" }).click();
    await admin.getByRole("cell", { name: "vera", exact: true }).waitFor();
    await admin.getByRole("button", { name: "Sign out" }).click();
    await admin.getByRole("radio", { name: "With a password" }).waitFor();

    await admin.getByLabel("User name", { exact: true }).fill("vera");
    await admin.getByLabel("Password", { exact: true }).fill("vera's long password");
    await admin.getByRole("button", { name: "Sign in" }).click();
    await admin.getByRole("navigation", { name: "main" }).waitFor();
    await expect.poll(() => admin.getByTestId("signed-in").textContent()).toBe("vera (viewer)");
    expect(await admin.getByRole("navigation", { name: "main" }).getByRole("link", { name: "Users" }).count()).toBe(0);

    await admin.goto(`/dags/roles-ui/runs/${runId}`);
    await admin.getByRole("group", { name: "run actions" }).getByRole("button", { name: "Run log" }).waitFor();
    expect(await admin.getByRole("button", { name: "Stop" }).count()).toBe(0);
    await admin.goto("/dags/roles-ui");
    await admin.getByRole("heading", { name: "roles-ui" }).waitFor();
    expect(await admin.getByRole("button", { name: "Start roles-ui" }).count()).toBe(0);

    // The page's own session, used directly: the server refuses what the UI hides.
    const refused = await admin.evaluate(async (id) => {
      const token = sessionStorage.getItem("dagflare.token");
      const res = await fetch(`/api/v2/dag-runs/roles-ui/${id}/stop`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: res.status, body: (await res.json()) as { code: string; message: string } };
    }, runId);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("forbidden");
    expect(refused.body.message).toMatch(/^vera \(viewer\) may not call POST/);
    expect((await ui.stack.api("GET", `/dag-runs/roles-ui/${runId}`)).body.dagRunDetails.statusLabel).toBe("running");
    await admin.close();

    await ui.stack.api("POST", `/dag-runs/roles-ui/${runId}/stop`, {});
    await runEnded(ui.stack, "roles-ui", runId);
  });
});
