// The run page with a step's panel open beside the steps table, against the real stack: what an
// empty log says, and a table that keeps its column heads whole in the room the panel leaves it.
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, startDagRun, tempDir } from "../../test/e2e/harness";
import { startUiStack, type UiStack } from "./browser";

let ui: UiStack;
beforeAll(async () => {
  ui = await startUiStack();
});
afterAll(async () => {
  await ui?.stop();
});

async function openStep(name: string, runId: string, step: string, size?: { width: number; height: number }) {
  const page = await ui.page();
  if (size) await page.setViewportSize(size);
  await page.goto(`/dags/${name}/runs/${runId}?step=${step}`);
  await page.getByRole("table", { name: "steps" }).waitFor();
  return page;
}

const row = (page: Page, step: string) =>
  page.getByRole("row").filter({ has: page.getByRole("button", { name: step, exact: true }) });

describe("the step panel", () => {
  it("says a running step has no output yet, and once it has finished that it wrote none", async () => {
    const go = path.join(tempDir("gate"), "go");
    const spec = `steps:
  - name: quiet
    script: |
      while [ ! -f ${go} ]; do sleep 0.05; done
`;
    const runId = await startDagRun(ui.stack, "ui-quiet", spec);
    const page = await openStep("ui-quiet", runId, "quiet");
    await row(page, "quiet").filter({ hasText: "running" }).waitFor({ timeout: 30_000 });
    const log = page.getByRole("log", { name: /^stdout of quiet/ });
    await log.getByText("No output yet.").waitFor();
    writeFileSync(go, "");
    await row(page, "quiet").filter({ hasText: "succeeded" }).waitFor({ timeout: 30_000 });
    await log.getByText("The step wrote nothing to stdout.").waitFor();
    await page.close();
  });

  /** The steps table's visible column heads, and those whose text does not fit their cell. */
  async function heads(page: Page) {
    const all = await page
      .getByRole("table", { name: "steps" })
      .locator("thead th")
      .evaluateAll((ths) =>
        ths
          .filter((th) => th.checkVisibility())
          .map((th) => ({ text: th.textContent ?? "", cut: th.scrollWidth > th.clientWidth })),
      );
    return { shown: all.map((h) => h.text), cut: all.filter((h) => h.cut).map((h) => h.text) };
  }

  async function endedRun(name: string): Promise<string> {
    const spec = `steps:
  - name: a-step-with-a-rather-long-name
    command: echo hi
  - name: then
    command: exit 3
`;
    const runId = await startDagRun(ui.stack, name, spec);
    await runEnded(ui.stack, name, runId);
    return runId;
  }

  it("shows all eight column heads whole when the table has the page's width", async () => {
    const runId = await endedRun("ui-heads-wide");
    const page = await ui.page();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`/dags/ui-heads-wide/runs/${runId}`);
    await row(page, "then").filter({ hasText: "failed" }).waitFor({ timeout: 30_000 });
    expect(await heads(page)).toEqual({
      shown: ["Step", "Status", "Attempt", "Runner", "Started", "Duration", "Exit", "Error"],
      cut: [],
    });
    await page.close();
  });

  it.each([
    { width: 1280, height: 800 },
    // Just wide enough for the panel to sit beside the table: the table at its narrowest.
    { width: 1120, height: 800 },
    // Too narrow for both side by side: the panel goes below the table.
    { width: 800, height: 600 },
  ])("keeps every column head it shows whole with a step's panel open at $width x $height", async (size) => {
    const name = `ui-heads-${size.width}`;
    const runId = await endedRun(name);
    const page = await openStep(name, runId, "then", size);
    await page.getByRole("log", { name: /^stdout of then/ }).waitFor();
    // Runner, Started and Exit give way to the panel, which shows them for the step it opens.
    expect(await heads(page)).toEqual({ shown: ["Step", "Status", "Attempt", "Duration", "Error"], cut: [] });
    await page.close();
  });
});
