// The DAG page against the real stack: the spec editor validates and saves, rename and delete,
// the graph and the history grid follow the runs, and a 2,000-step graph stays usable.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded } from "../../test/e2e/harness";
import { screenshot, startUiStack, type UiStack } from "./browser";

let ui: UiStack;
beforeAll(async () => {
  ui = await startUiStack();
});
afterAll(async () => {
  await ui?.stop();
});

async function createDag(name: string, spec: string) {
  const res = await ui.stack.api("POST", "/dags", { name, spec });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

/** Replaces the editor's whole text, as a user pasting a spec would. */
async function typeSpec(page: Page, text: string) {
  const editor = page.getByRole("textbox", { name: "DAG spec (YAML)" });
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText(text);
}

const CHAIN = `type: chain
steps:
  - name: fetch
    command: echo fetch
  - name: build
    command: echo build
handlerOn:
  exit:
    command: echo bye
`;

describe("the DAG page", () => {
  it("shows a spec error at its line and in the list, then saves the fixed spec", async () => {
    await createDag("spec-edit", CHAIN);
    const page = await ui.page();
    await page.goto("/dags/spec-edit?tab=spec");
    const broken =
      "steps:\n  - name: one\n    command: echo one\n  - name: two\n    depends: [nowhere]\n    command: echo two\n";
    await typeSpec(page, broken);
    // The diagnostic marks line 5 in the editor, and the error is listed with its line.
    await expect.poll(() => page.locator(".cm-lintRange-error").first().textContent()).toBe("    depends: [nowhere]");
    const errors = page.getByRole("list", { name: "Errors" });
    await expect
      .poll(() => errors.textContent())
      .toContain('line 5, steps[1].depends: step "two" depends on unknown step "nowhere"');
    await screenshot(page, "dag-spec-error");

    const fixed = broken.replace("[nowhere]", "[one]");
    await typeSpec(page, fixed);
    await page.getByText("The spec is valid.").waitFor();
    expect(await page.locator(".cm-lintRange-error").count()).toBe(0);
    // Leaving with unsaved edits asks first; declining keeps the editor and its text.
    const asked = new Promise<string>((resolve) =>
      page.once("dialog", (d) => {
        resolve(d.message());
        void d.dismiss();
      }),
    );
    await page.getByRole("tab", { name: "Graph" }).click();
    expect(await asked).toContain("not saved");
    expect(new URL(page.url()).searchParams.get("tab")).toBe("spec");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const saved = await ui.stack.api("GET", "/dags/spec-edit/spec");
    expect(saved.body.spec).toBe(fixed);
    await page.close();
  });

  it("renames a DAG and then deletes it after confirmation", async () => {
    await createDag("old-name", CHAIN);
    const page = await ui.page();
    await page.goto("/dags/old-name?tab=spec");
    await page.getByRole("button", { name: "Rename…" }).click();
    await page.getByLabel("New file name").fill("new-name");
    await page.getByRole("button", { name: "Rename", exact: true }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe("/dags/new-name");
    expect((await ui.stack.api("GET", "/dags/old-name")).status).toBe(404);
    expect((await ui.stack.api("GET", "/dags/new-name")).status).toBe(200);

    await page.getByRole("button", { name: "Delete…" }).click();
    await page.getByRole("dialog", { name: "delete new-name" }).getByRole("button", { name: "Delete DAG" }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe("/dags");
    expect((await ui.stack.api("GET", "/dags/new-name")).status).toBe(404);
    await page.close();
  });

  it("draws the chain's steps and handler, then turns them to the latest run's colours", async () => {
    await createDag("graph-colours", CHAIN);
    const page = await ui.page();
    await page.goto("/dags/graph-colours");
    const build = page.locator('[data-step="build"]');
    await expect.poll(() => build.getAttribute("data-status")).toBe("not_started");
    // A chain's implicit order is an edge like any other.
    await page.locator('.react-flow__edge[data-id="fetch->build"]').waitFor({ state: "attached" });
    await page.getByRole("button", { name: "onExit: not started" }).waitFor();

    const started = await ui.stack.api("POST", "/dags/graph-colours/start", {});
    await runEnded(ui.stack, "graph-colours", started.body.dagRunId);
    await expect.poll(() => build.getAttribute("data-status"), { timeout: 60_000 }).toBe("succeeded");
    await page.getByRole("button", { name: "fetch: succeeded" }).waitFor();
    await page.getByRole("button", { name: "onExit: succeeded" }).waitFor();
    await screenshot(page, "dag-graph");

    // Choosing a step highlights it and shows what it runs.
    await build.click();
    expect(await build.getAttribute("aria-pressed")).toBe("true");
    await page.getByRole("region", { name: "step build" }).getByText("echo build").waitFor();
    // The graph follows the theme.
    await page.getByRole("button", { name: "switch to dark theme" }).click();
    await page.locator(".react-flow.dark").waitFor();
    await screenshot(page, "dag-graph-dark");
    await page.close();
  });

  it("shows a run's column in the history grid, handler row included, linking to the run", async () => {
    const page = await ui.page();
    const runs = await ui.stack.api("GET", "/dag-runs/graph-colours");
    const runId = runs.body.dagRuns[0].dagRunId as string;
    await page.goto("/dags/graph-colours?tab=history");
    const grid = page.getByRole("table", { name: "history of runs by steps" });
    await grid.getByRole("cell", { name: `build in run ${runId}: succeeded` }).waitFor();
    await grid.getByRole("cell", { name: `onExit in run ${runId}: succeeded` }).waitFor();
    const link = grid.getByRole("link", { name: new RegExp(`^run ${runId}: succeeded`) });
    expect(await link.getAttribute("href")).toBe(`/dags/graph-colours/runs/${runId}`);
    await screenshot(page, "dag-history");

    await page.getByRole("tab", { name: "Runs" }).click();
    const row = page.getByRole("table", { name: "runs of graph-colours" }).getByRole("link", { name: runId });
    expect(await row.getAttribute("href")).toBe(`/dags/graph-colours/runs/${runId}`);
    await page.close();
  });

  it("starts a run with parameters from the dialog and suspends the schedule", async () => {
    await createDag("with-params", "params: GREETING=hello\nsteps:\n  - name: say\n    command: echo $GREETING\n");
    const page = await ui.page();
    await page.goto("/dags/with-params");
    await page.getByRole("button", { name: "Start with-params" }).click();
    const dialog = page.getByRole("dialog", { name: "Start with-params" });
    const greeting = dialog.getByLabel("GREETING");
    expect(await greeting.inputValue()).toBe("hello");
    await greeting.fill("bonjour");
    await dialog.getByRole("button", { name: "Start run" }).click();
    await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/dags\/with-params\/runs\/.+/);
    const runId = new URL(page.url()).pathname.split("/").pop() as string;
    const run = await ui.stack.api("GET", `/dag-runs/with-params/${runId}`);
    expect(run.body.dagRunDetails.params).toContain("bonjour");

    await page.goto("/dags/with-params");
    await page.getByRole("button", { name: "Suspend" }).click();
    await page.getByRole("button", { name: "Resume" }).waitFor();
    expect((await ui.stack.api("GET", "/dags/with-params")).body.suspended).toBe(true);
    await page.close();
  });

  it("renders a 2,000-step graph without putting every node in the page", async () => {
    // Twenty independent strands, 100 steps long, with cross-links: a wide and deep graph.
    const lines = ["type: graph", "steps:"];
    for (let i = 0; i < 2000; i++) {
      lines.push(`  - name: s${i}`, "    command: 'true'");
      if (i >= 20) lines.push(`    depends: [s${i - 20}${i % 3 === 0 ? `, s${i - 21}` : ""}]`);
    }
    await createDag("big-graph", `${lines.join("\n")}\n`);
    const page = await ui.page();
    await page.goto("/dags/big-graph");
    await page.locator('[data-step="s0"]').waitFor({ timeout: 120_000 });
    const rendered = await page.locator(".react-flow__node").count();
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(2000);
    await page.getByRole("button", { name: "s0: not started" }).click();
    expect(await page.locator('[data-step="s0"]').getAttribute("aria-pressed")).toBe("true");
    // A step is chosen from the keyboard as well.
    await page.locator('[data-step="s1"]').focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator('[data-step="s1"]').getAttribute("aria-pressed")).toBe("true");
    await screenshot(page, "dag-graph-2000");
    await page.close();
  });
});
