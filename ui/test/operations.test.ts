// The operator's pages against the real stack: queues, runners and tokens, system, API reference.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, startDagRun, waitFor } from "../../test/e2e/harness";
import { screenshot, startUiStack, type UiStack } from "./browser";

let ui: UiStack;
let page: Page;

beforeAll(async () => {
  ui = await startUiStack();
  page = await ui.page();
});
afterAll(async () => {
  await ui?.stop();
});

describe("the queues page", () => {
  let running: string;
  let waiting: string;
  beforeAll(async () => {
    // One run at a time: the second start waits in the DAG's own queue.
    running = await startDagRun(
      ui.stack,
      "one-at-a-time",
      "maxActiveRuns: 1\nsteps:\n  - name: s\n    command: sleep 60\n",
    );
    const second = await ui.stack.api("POST", "/dags/one-at-a-time/start", {});
    waiting = second.body.dagRunId;
  });
  afterAll(async () => {
    await ui.stack.api("POST", `/dag-runs/one-at-a-time/${running}/stop`);
    await runEnded(ui.stack, "one-at-a-time", running);
  });

  it("shows a queue's running and waiting runs", async () => {
    await page.goto("/queues");
    const queue = page.getByRole("region", { name: "queue one-at-a-time" });
    await expect.poll(() => queue.getByRole("table", { name: "Running" }).textContent()).toContain(running);
    expect(await queue.getByRole("table", { name: "Waiting" }).textContent()).toContain(waiting);
    expect(await queue.textContent()).toContain("maxActiveRuns 1");
    await screenshot(page, "queues");
  });

  it("dequeues a waiting run after confirmation", async () => {
    await page.goto("/queues");
    await page.getByRole("button", { name: `Dequeue ${waiting}` }).click();
    const dialog = page.getByRole("dialog", { name: "Dequeue run" });
    await dialog.getByRole("button", { name: "Dequeue" }).click();
    await waitFor("the dialog to close", async () => (await dialog.count()) === 0);
    await expect.poll(() => page.getByRole("table", { name: "Waiting" }).count()).toBe(0);
    const run = await ui.stack.api("GET", `/dag-runs/one-at-a-time/${waiting}`);
    expect(run.body.dagRunDetails.statusLabel).toBe("aborted");
  });

  it("shows on the dequeued run's Activity tab who took it out of line", async () => {
    await page.goto(`/dags/one-at-a-time/runs/${waiting}?tab=activity`);
    const table = page.getByRole("table", { name: "who did what" });
    const row = table.getByRole("row").filter({ has: page.getByRole("cell", { name: "dequeue", exact: true }) });
    await expect.poll(() => row.textContent()).toContain("DAGFLARE_API_TOKEN (operator token)");
  });

  it("sets a queue's max concurrency and resets it", async () => {
    expect((await ui.stack.api("PUT", "/queues/shared", { maxConcurrency: 1 })).status).toBe(200);
    await page.goto("/queues");
    const queue = page.getByRole("region", { name: "queue shared" });
    await queue.getByRole("button", { name: "Set max concurrency of shared" }).click();
    const dialog = page.getByRole("dialog", { name: "Max concurrency of shared" });
    await dialog.getByLabel("Runs at once").fill("4");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => queue.textContent()).toContain("4 max");
    await queue.getByRole("button", { name: "Set max concurrency of shared" }).click();
    await dialog.getByRole("button", { name: "Reset" }).click();
    // A reset queue with no runs is no longer listed.
    await expect.poll(() => queue.count()).toBe(0);
  });
});

describe("the runners page", () => {
  it("shows the local runner with its slots and health", async () => {
    await page.goto("/runners");
    const row = page.getByRole("table", { name: "runners" }).getByRole("row").filter({ hasText: "ui-runner" });
    await expect.poll(() => row.textContent()).toContain("healthy");
    expect(await row.textContent()).toMatch(/\d+ \/ 2/);
    await screenshot(page, "runners");
  });

  it("says in one line that there is no runner token yet, with no empty table", async () => {
    await page.goto("/runners");
    await page.getByText("No runner token yet.").waitFor();
    expect(await page.getByRole("table", { name: "runner tokens" }).count()).toBe(0);
  });

  it("creates a runner token, shows its secret once, and revokes it", async () => {
    await page.goto("/runners");
    await page.getByRole("button", { name: "New runner token" }).click();
    await page.getByRole("dialog", { name: "New runner token" }).getByLabel("Token name").fill("build-host");
    await page.getByRole("button", { name: "Create" }).click();
    const created = page.getByRole("dialog", { name: "Runner token created" });
    const secret = await created.getByLabel("Runner token secret").inputValue();
    expect(secret).toMatch(/^dfr_/);
    expect(await created.textContent()).toContain("will not be shown again");
    // The secret is a working runner token: the runner protocol accepts it.
    const heartbeat = () =>
      fetch(`${ui.stack.url}/api/v2/runners/heartbeat`, {
        method: "POST",
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        body: "{}",
      }).then((r) => r.status);
    expect(await heartbeat()).not.toBe(401);
    await created.getByRole("button", { name: "Done" }).click();
    // Listed without its secret.
    const row = page.getByRole("table", { name: "runner tokens" }).getByRole("row").filter({ hasText: "build-host" });
    await expect.poll(() => row.textContent()).toContain("active");
    expect(await page.content()).not.toContain(secret);

    await row.getByRole("button", { name: "Revoke build-host" }).click();
    await page.getByRole("dialog", { name: "Revoke build-host" }).getByRole("button", { name: "Revoke" }).click();
    await expect.poll(() => row.textContent()).toContain("revoked");
    const tokens = (await ui.stack.api("GET", "/runner-tokens")).body.tokens as Array<{
      name: string;
      revokedAt?: string;
    }>;
    expect(tokens.find((t) => t.name === "build-host")?.revokedAt).toBeTruthy();
    expect(await heartbeat()).toBe(401);
  });
});

describe("the system page", () => {
  it("shows the main metrics and the next schedule firings", async () => {
    const ok = await startDagRun(
      ui.stack,
      "metric-job",
      'schedule: "*/5 * * * *"\nsteps:\n  - name: s\n    command: "true"\n',
    );
    await runEnded(ui.stack, "metric-job", ok);
    await page.goto("/system");
    const metrics = page.getByRole("region", { name: "metrics" });
    const stat = (label: string) => metrics.locator(".stat", { hasText: label }).locator("dd");
    const dagCount = (await ui.stack.api("GET", "/dags")).body.pagination.totalRecords as number;
    expect(dagCount).toBeGreaterThan(0);
    await expect.poll(() => stat("DAGs").textContent()).toBe(String(dagCount));
    const byStatus = page.getByRole("table", { name: "Runs by status" });
    const count = (status: string) =>
      byStatus
        .getByRole("row")
        .filter({ has: page.locator(`[data-status="${status}"]`) })
        .locator("td")
        .nth(1)
        .textContent();
    await expect.poll(() => count("succeeded")).toBe("1");
    expect(await count("aborted")).toBe("2"); // the stopped run and the dequeued one
    expect(await page.getByRole("table", { name: "next schedule firings" }).textContent()).toContain("metric-job");
    expect(await page.getByRole("table", { name: "services" }).textContent()).toContain("Dispatcher");
    await screenshot(page, "system");
  });
});

describe("the API reference", () => {
  it("renders the operations of the OpenAPI document the Worker serves", async () => {
    const doc = (await (await fetch(`${ui.stack.url}/api/v2/openapi.json`)).json()) as {
      paths: Record<string, object>;
    };
    const somePath = Object.keys(doc.paths)[0] ?? "";
    const errors: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.goto("/api-docs");
    await expect.poll(() => page.locator(".opblock").count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await page.locator(".opblock-summary-path").allTextContents()).toContain(somePath);
    // Nothing was refused by the Content-Security-Policy.
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });

  it("sends this tab's token on a call made with Try it out", async () => {
    await page.goto("/api-docs");
    const op = page
      .locator(".opblock-get")
      .filter({ has: page.locator('.opblock-summary-path[data-path="/runner-tokens"]') });
    await op.locator(".opblock-summary").first().click();
    await op.getByRole("button", { name: "Try it out" }).click();
    await op.getByRole("button", { name: "Execute" }).click();
    // Without the token the server would answer 401.
    await expect
      .poll(() => op.locator(".live-responses-table tr.response .response-col_status").first().textContent())
      .toContain("200");
  });
});
