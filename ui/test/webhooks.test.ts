// The Webhooks page against the real stack: a manager registers a webhook (its secret shown
// once), sees a run's deliveries to a real receiver with their attempts, and deletes it; an
// empty list says what to do; a viewer is not shown the page.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateApiKeyResponse } from "../../src/access/api-keys";
import { runEnded, startDagRun, waitFor } from "../../test/e2e/harness";
import { signIn, startUiStack, type UiStack } from "./browser";

let ui: UiStack;
let receiver: Server;
let url = "";

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  ui = await startUiStack({ vars: { DAGFLARE_WEBHOOKS_LOOPBACK: "on" } });
});
afterAll(async () => {
  await ui?.stop();
  receiver?.close();
});

describe("the webhooks page", () => {
  it("says there are no webhooks yet, and how to register one, before any is", async () => {
    const page = await ui.page();
    await page.getByRole("navigation", { name: "main" }).getByRole("link", { name: "Webhooks" }).click();
    await page.getByText("No webhooks yet. Register one with the form above").waitFor();
    expect(await page.getByRole("table", { name: "webhooks" }).count()).toBe(0);
    await page.close();
  });

  it("registers a webhook, shows its secret once, lists its deliveries and deletes it", async () => {
    const page = await ui.page();
    await page.getByRole("navigation", { name: "main" }).getByRole("link", { name: "Webhooks" }).click();
    const form = page.getByRole("form", { name: "new webhook" });
    await form.getByLabel("Name", { exact: true }).fill("ops");
    await form.getByLabel("URL", { exact: true }).fill(url);
    await form.getByLabel("Events", { exact: true }).fill("dag.*");
    await form.getByLabel("DAG names", { exact: true }).fill("ui-hooked");
    await form.getByRole("button", { name: "Create webhook" }).click();
    const secret = await page.getByRole("status").locator("code").textContent();
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole("cell", { name: "ops", exact: true }).waitFor();

    const runId = await startDagRun(ui.stack, "ui-hooked", "steps:\n  - command: true\n");
    await runEnded(ui.stack, "ui-hooked", runId);
    await page.getByRole("button", { name: "Deliveries of ops" }).click();
    const deliveries = page.getByRole("region", { name: "deliveries of ops" });
    await expect
      .poll(() => deliveries.getByRole("table", { name: "deliveries" }).textContent(), { timeout: 30_000 })
      .toMatch(/dag\.succeeded.*delivered.*HTTP 204/s);

    await page.reload();
    expect(await page.textContent("body")).not.toContain(secret ?? "never");
    await page.getByRole("button", { name: "Delete ops" }).click();
    await page.getByRole("dialog", { name: "Delete webhook" }).getByRole("button", { name: "Delete" }).click();
    await waitFor(
      "the webhook to go",
      async () => (await page.getByRole("cell", { name: "ops", exact: true }).count()) === 0,
    );
    expect((await ui.stack.api("GET", "/outgoing-webhooks")).body.webhooks).toEqual([]);
    await page.close();
  });

  it("is not shown to a viewer", async () => {
    const key = await ui.stack.api("POST", "/api-keys", { name: "reader", role: "viewer" });
    const viewerKey = CreateApiKeyResponse.parse(key.body).key;
    const page = await ui.browser.newPage();
    await page.goto("/");
    await signIn(page, viewerKey);
    await page.getByRole("navigation", { name: "main" }).getByRole("link", { name: "Runs" }).waitFor();
    expect(await page.getByRole("navigation", { name: "main" }).getByRole("link", { name: "Webhooks" }).count()).toBe(
      0,
    );
    await page.close();
  });
});
