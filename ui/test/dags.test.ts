// The DAG list and the runs list against the real stack: filters, pages, start, suspend.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, startDagRun, stepLogText, waitFor } from "../../test/e2e/harness";
import { screenshot, startUiStack, type UiStack } from "./browser";

let ui: UiStack;
let page: Page;

const ETL = `description: Loads the day's data
tags: [etl, nightly]
params:
  - ENV: dev
  - LIMIT: "10"
steps:
  - name: load
    command: echo loading $ENV $LIMIT
`;
const REPORT = `tags: [report]
schedule: "0 9 * * 1"
steps:
  - name: render
    command: "true"
`;

beforeAll(async () => {
  ui = await startUiStack();
  for (const [name, spec] of [
    ["etl-daily", ETL],
    ["report-weekly", REPORT],
  ] as const) {
    expect((await ui.stack.api("POST", "/dags", { name, spec })).status).toBe(201);
  }
  for (let i = 1; i <= 6; i++) {
    expect((await ui.stack.api("POST", "/dags", { name: `bulk-${i}` })).status).toBe(201);
  }
  page = await ui.page();
});
afterAll(async () => {
  await ui?.stop();
});

const rowOf = (name: string) => page.getByRole("row").filter({ has: page.getByRole("link", { name, exact: true }) });
const dagNames = () =>
  page.getByRole("table", { name: "DAGs" }).getByRole("row").locator("td:first-child a").allTextContents();

describe("the DAG list", () => {
  it("shows a created DAG with its description, tags and schedule", async () => {
    await page.goto("/dags");
    await expect.poll(() => rowOf("etl-daily").textContent()).toContain("Loads the day's data");
    const etl = (await rowOf("etl-daily").textContent()) ?? "";
    expect(etl).toContain("etl");
    expect(etl).toContain("nightly");
    expect(etl).toContain("never run");
    const report = (await rowOf("report-weekly").textContent()) ?? "";
    expect(report).toContain("0 9 * * 1");
    expect(report).toMatch(/next in \d+ (day|hour|minute)/);
    await screenshot(page, "dags");
  });

  it("filters by a name substring, kept in the URL", async () => {
    await page.goto("/dags");
    await page.getByLabel("Name", { exact: true }).fill("weekl");
    await expect.poll(dagNames).toEqual(["report-weekly"]);
    expect(new URL(page.url()).searchParams.get("name")).toBe("weekl");
    await page.reload();
    await expect.poll(dagNames).toEqual(["report-weekly"]);
  });

  it("filters by tag, offering the tags the server knows", async () => {
    await page.goto("/dags");
    await expect
      .poll(() => page.getByLabel("Tag").locator("option").allTextContents())
      .toEqual(["any", "etl", "nightly", "report"]);
    await page.getByLabel("Tag").selectOption("nightly");
    await expect.poll(dagNames).toEqual(["etl-daily"]);
    expect(new URL(page.url()).searchParams.get("tag")).toBe("nightly");
  });

  it("pages through the DAGs on the server", async () => {
    await page.goto("/dags?perPage=5");
    await expect.poll(() => page.getByRole("navigation", { name: "pages" }).textContent()).toContain("page 1 of 2 (8)");
    const first = await dagNames();
    expect(first).toHaveLength(5);
    await page.getByRole("button", { name: "Next →" }).click();
    await expect.poll(() => page.getByRole("navigation", { name: "pages" }).textContent()).toContain("page 2 of 2");
    const second = await dagNames();
    expect(second).toHaveLength(3);
    expect(second.filter((n) => first.includes(n))).toEqual([]);
    expect(new URL(page.url()).searchParams.get("page")).toBe("2");
  });

  it("starts a DAG with the params typed in the form and opens the new run", async () => {
    await page.goto("/dags");
    await page.getByRole("button", { name: "Start etl-daily" }).click();
    const dialog = page.getByRole("dialog", { name: "Start etl-daily" });
    // The form holds the DAG's params with their defaults.
    expect(await dialog.getByLabel("ENV").inputValue()).toBe("dev");
    expect(await dialog.getByLabel("LIMIT").inputValue()).toBe("10");
    await dialog.getByLabel("ENV").fill("prod eu");
    await dialog.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/\/dags\/etl-daily\/runs\/[^/]+$/);
    const runId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop() ?? "");
    const run = await runEnded(ui.stack, "etl-daily", runId);
    expect(run.statusLabel).toBe("succeeded");
    // The step saw the typed value and the untouched default.
    expect(await stepLogText(ui.stack, "etl-daily", runId, "load")).toBe("loading prod eu 10");
  });

  it("shows the latest run with a strip of the last runs, and filters by the latest status", async () => {
    await page.goto("/dags");
    const row = rowOf("etl-daily");
    await expect.poll(() => row.locator('.badge[data-status="succeeded"]').count()).toBe(1);
    expect(await row.getByRole("img", { name: /^succeeded, / }).count()).toBe(1);
    await page.getByLabel("Latest status").selectOption("succeeded");
    await expect.poll(dagNames).toEqual(["etl-daily"]);
    expect(new URL(page.url()).searchParams.get("status")).toBe("4");
  });

  it("suspends a DAG's schedule and resumes it", async () => {
    await page.goto("/dags");
    await page.getByRole("button", { name: "Suspend report-weekly" }).click();
    await expect.poll(() => rowOf("report-weekly").textContent()).toContain("suspended");
    expect((await ui.stack.api("GET", "/dags/report-weekly")).body.suspended).toBe(true);
    await page.getByRole("button", { name: "Resume report-weekly" }).click();
    await expect.poll(() => rowOf("report-weekly").textContent()).toContain("active");
    expect((await ui.stack.api("GET", "/dags/report-weekly")).body.suspended).toBe(false);
  });

  it("creates a new DAG and opens its spec", async () => {
    await page.goto("/dags");
    await page.getByRole("button", { name: "New DAG" }).click();
    await page.getByRole("dialog", { name: "New DAG" }).getByLabel("DAG name").fill("fresh-one");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL((u) => u.pathname === "/dags/fresh-one" && u.searchParams.get("tab") === "spec");
    expect((await ui.stack.api("GET", "/dags/fresh-one")).status).toBe(200);
  });

  it("shows the server's refusal of a name that exists", async () => {
    await page.goto("/dags");
    await page.getByRole("button", { name: "New DAG" }).click();
    const dialog = page.getByRole("dialog", { name: "New DAG" });
    await dialog.getByLabel("DAG name").fill("etl-daily");
    await dialog.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => dialog.getByRole("alert").textContent()).toContain("already exists");
    await dialog.getByRole("button", { name: "Cancel" }).click();
  });
});

describe("the runs list", () => {
  let okRun: string;
  let badRun: string;
  beforeAll(async () => {
    okRun = await startDagRun(ui.stack, "ok-job", 'steps:\n  - name: s\n    command: "true"\n');
    badRun = await startDagRun(ui.stack, "bad-job", 'steps:\n  - name: s\n    command: "false"\n');
    await runEnded(ui.stack, "ok-job", okRun);
    await runEnded(ui.stack, "bad-job", badRun);
  });

  const runIds = () => page.getByRole("table", { name: "runs" }).locator("tbody tr td:nth-child(2)").allInnerTexts();

  it("lists the runs of every DAG, newest first, each linking to its page", async () => {
    await page.goto("/runs");
    await expect.poll(runIds).toEqual(expect.arrayContaining([okRun, badRun]));
    const ids = await runIds();
    expect(ids.indexOf(badRun)).toBeLessThan(ids.indexOf(okRun));
    await screenshot(page, "runs");
    await page.getByRole("link", { name: okRun }).click();
    await page.waitForURL(`**/dags/ok-job/runs/${okRun}`);
  });

  it("filters the runs by status", async () => {
    await page.goto("/runs");
    await page.getByLabel("Status").selectOption("failed");
    await expect.poll(runIds).toEqual([badRun]);
    expect(new URL(page.url()).searchParams.get("status")).toBe("2");
  });

  it("filters the runs by a part of the DAG name", async () => {
    await page.goto("/runs");
    await page.getByLabel("DAG name").fill("ok-j");
    await expect.poll(runIds).toEqual([okRun]);
  });

  it("filters the runs by date range", async () => {
    await page.goto("/runs");
    await page.getByLabel("To", { exact: true }).fill("2001-01-01");
    await waitFor("the empty result", async () => (await page.getByText("No run matches.").count()) > 0);
    await page.getByLabel("To", { exact: true }).fill("");
    await page.getByLabel("From", { exact: true }).fill(new Date().toISOString().slice(0, 10));
    await expect.poll(runIds).toEqual(expect.arrayContaining([okRun, badRun]));
  });
});
