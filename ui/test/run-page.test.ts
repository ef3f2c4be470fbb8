// The run page against the real stack: statuses and a step's log arrive by push while the run
// runs, and every action (approve, retry, stop, set a status) works from the page.
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, startDagRun, tempDir } from "../../test/e2e/harness";
import { screenshot, startUiStack, type UiStack } from "./browser";

let ui: UiStack;
beforeAll(async () => {
  ui = await startUiStack();
});
afterAll(async () => {
  await ui?.stop();
});

/** A file the test creates to let a waiting step go on (the step polls for it). */
function gate(): { path: string; open: () => void } {
  const file = path.join(tempDir("gate"), "go");
  return { path: file, open: () => writeFileSync(file, "") };
}

async function openRun(name: string, runId: string, search = ""): Promise<Page> {
  const page = await ui.page();
  await page.goto(`/dags/${name}/runs/${runId}${search}`);
  await page.getByRole("table", { name: "steps" }).or(page.getByRole("tablist")).first().waitFor();
  return page;
}

const row = (page: Page, step: string) =>
  page.getByRole("row").filter({ has: page.getByRole("button", { name: step, exact: true }) });

/** Waits until the locator's text holds `text` (the page updates by itself). */
async function shows(locator: ReturnType<Page["locator"]>, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: 30_000 });
}

const runHeading = (page: Page) => page.getByRole("heading", { level: 1 });

describe("the run page", () => {
  it("shows step statuses turning succeeded live, without a reload", async () => {
    const go = gate();
    const spec = `steps:
  - name: first
    script: |
      while [ ! -f ${go.path} ]; do sleep 0.05; done
  - name: second
    depends: first
    command: echo done
`;
    const runId = await startDagRun(ui.stack, "ui-live-steps", spec);
    const page = await openRun("ui-live-steps", runId);
    await shows(row(page, "first"), "running");
    await shows(page.getByRole("status", { name: "updates" }), "live");
    // A mark on the window survives only if the page is never reloaded.
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));
    await screenshot(page, "run-live");
    go.open();
    await shows(row(page, "first"), "succeeded");
    await shows(row(page, "second"), "succeeded");
    await shows(runHeading(page), "succeeded");
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await page.close();
  });

  it("colours the run's graph live, and a node opens its step", async () => {
    const go = gate();
    const spec = `steps:
  - name: first
    script: |
      echo graph says hi
      while [ ! -f ${go.path} ]; do sleep 0.05; done
  - name: second
    depends: first
    command: echo done
`;
    const runId = await startDagRun(ui.stack, "ui-live-graph", spec);
    const page = await openRun("ui-live-graph", runId, "?tab=graph");
    const graph = page.getByRole("region", { name: "graph of the run" });
    await graph.getByRole("button", { name: "first: running" }).waitFor({ timeout: 30_000 });
    await graph.getByRole("button", { name: "second: not started" }).waitFor();
    await screenshot(page, "run-graph");
    go.open();
    await graph.getByRole("button", { name: "first: succeeded" }).waitFor({ timeout: 30_000 });
    await graph.getByRole("button", { name: "second: succeeded" }).waitFor({ timeout: 30_000 });
    await graph.getByRole("button", { name: "first: succeeded" }).click();
    await shows(page.getByRole("log", { name: /^stdout of first/ }), "graph says hi");
    await page.close();
  });

  it("shows a parallel step as one node with its instances under it, and as one node of the graph", async () => {
    const spec = `steps:
  - name: fan
    command: echo "item $ITEM"
    parallel: [a, b]
  - name: after
    command: echo done
`;
    const runId = await startDagRun(ui.stack, "ui-parallel", spec);
    await runEnded(ui.stack, "ui-parallel", runId);
    const page = await openRun("ui-parallel", runId);
    await shows(row(page, "fan"), "parallel, 2 instances");
    const rows = await page
      .locator("tbody tr[data-step]")
      .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-step"), tr.className]));
    expect(rows).toEqual([
      ["fan", ""],
      ["fan[1]", "instance-row"],
      ["fan[2]", "instance-row"],
      ["after", ""],
    ]);
    await row(page, "fan[2]").getByRole("button", { name: "fan[2]" }).click();
    await shows(page.getByRole("log", { name: /^stdout of fan\[2\]/ }), "item b");
    await page.getByRole("tab", { name: "Graph" }).click();
    const graph = page.getByRole("region", { name: "graph of the run" });
    await graph.getByRole("button", { name: "fan: succeeded" }).waitFor({ timeout: 30_000 });
    await graph.getByRole("button", { name: "after: succeeded" }).waitFor();
    expect(await graph.getByRole("button", { name: /^fan\[/ }).count()).toBe(0);
    await page.close();
  });

  it("tails a failing step's log as lines arrive, and switches to stderr", async () => {
    const go = gate();
    const spec = `steps:
  - name: fail
    script: |
      echo first line
      echo "something broke" >&2
      while [ ! -f ${go.path} ]; do sleep 0.05; done
      echo second line
      exit 1
`;
    const runId = await startDagRun(ui.stack, "ui-live-log", spec);
    const page = await openRun("ui-live-log", runId);
    // A click anywhere on the row opens its log.
    await row(page, "fail").getByRole("cell").nth(3).click();
    const stdout = page.getByRole("log", { name: /^stdout of fail/ });
    await shows(stdout, "first line");
    expect(await stdout.textContent()).not.toContain("second line");
    go.open();
    await shows(stdout, "second line");
    await shows(row(page, "fail"), "failed");
    await page.getByRole("button", { name: "stderr", exact: true }).click();
    await shows(page.getByRole("log", { name: /^stderr of fail/ }), "something broke");
    expect(new URL(page.url()).searchParams.get("stream")).toBe("stderr");
    await screenshot(page, "run-log");
    await page.close();
  });

  it("names the runner that ran a step after the step failed, in its row and its panel", async () => {
    const spec = `steps:
  - name: broken
    command: exit 7
`;
    const runId = await startDagRun(ui.stack, "ui-ran-on", spec);
    await runEnded(ui.stack, "ui-ran-on", runId);
    const page = await openRun("ui-ran-on", runId);
    await shows(row(page, "broken"), "failed");
    const runnerCell = row(page, "broken").getByRole("cell").nth(3);
    expect(await page.getByRole("columnheader").nth(3).textContent()).toBe("Runner");
    // What the cell shows: a card's label for the value is left out of the table.
    expect(await runnerCell.innerText()).toBe("ui-runner");
    await runnerCell.click();
    const facts = page.getByRole("complementary", { name: "step broken" }).getByRole("list", { name: "attempt" });
    await shows(facts, "runner ui-runner");
    expect(await facts.textContent()).toContain("exit code 7");
    await screenshot(page, "run-ran-on");
    await page.close();
  });

  it("scrolls a 100,000-line log, stops following when scrolled up, and copies the exact lines", async () => {
    const runId = await startDagRun(ui.stack, "ui-big-log", "steps:\n  - name: big\n    command: seq 1 100000\n");
    await runEnded(ui.stack, "ui-big-log", runId, 60_000);
    const page = await openRun("ui-big-log", runId, "?step=big");
    const log = page.getByRole("log", { name: /^stdout of big/ });
    // The live tail holds the last lines, following the end.
    await shows(log, "100000");
    await shows(page.getByRole("note"), "Earlier lines are not shown here");
    await page.getByRole("button", { name: "Show the whole log" }).click();
    await shows(page.getByRole("note"), "The whole log as it was when loaded");
    await log.locator('[data-line="99999"]').waitFor();
    // Only the lines in view are in the page.
    expect(await log.locator(".log-line").count()).toBeLessThan(200);
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    await page.getByRole("button", { name: "Follow the tail" }).waitFor();
    const first = log.locator('[data-line="0"]');
    await first.waitFor();
    expect(await first.locator(".log-no").textContent()).toBe("1");
    expect(await first.locator(".log-text").textContent()).toBe("1");
    // Select lines 2 to 4 (from the start of "2" to the end of "4") and copy.
    const copied = await log.evaluate((el) => {
      const doc = el.ownerDocument;
      const text = (i: number) => el.querySelector(`[data-line="${i}"] .log-text`)?.firstChild ?? el;
      const range = doc.createRange();
      range.setStart(text(1), 0);
      range.setEnd(text(3), 1);
      const sel = doc.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
      let got = "";
      doc.addEventListener("copy", (e: { clipboardData: { getData(type: string): string } | null }) => {
        got = e.clipboardData?.getData("text/plain") ?? "";
      });
      doc.execCommand("copy");
      return got;
    });
    expect(copied).toBe("2\n3\n4");
    await page.close();
  });

  it("keeps the page current by polling when the live socket cannot be opened", async () => {
    const go = gate();
    const spec = `steps:
  - name: held
    script: |
      echo polled line
      while [ ! -f ${go.path} ]; do sleep 0.05; done
`;
    const runId = await startDagRun(ui.stack, "ui-polling", spec);
    const page = await ui.page();
    // The network refuses the socket, as a proxy that drops upgrades would.
    await page.routeWebSocket(/\/live$/, (ws) => ws.close());
    await page.goto(`/dags/ui-polling/runs/${runId}?step=held`);
    await shows(page.getByRole("status", { name: "updates" }), "polling");
    await shows(row(page, "held"), "running");
    await shows(page.getByRole("log", { name: /^stdout of held/ }), "polled line");
    go.open();
    await shows(row(page, "held"), "succeeded");
    await page.close();
  });

  it("approves a waiting step and sees the run finish", async () => {
    const spec = `steps:
  - name: build
    command: echo built
  - name: deploy
    depends: build
    command: echo deployed
    approval: true
`;
    const runId = await startDagRun(ui.stack, "ui-approve", spec);
    const page = await openRun("ui-approve", runId);
    await shows(row(page, "deploy"), "waiting");
    await shows(page.getByRole("note"), "Waiting for approval: deploy");
    await row(page, "deploy").getByRole("button", { name: "deploy" }).click();
    await page.getByRole("group", { name: "actions on deploy" }).getByRole("button", { name: "Approve" }).click();
    const dialog = page.getByRole("dialog", { name: "Approve" });
    await dialog.getByLabel("Reason (optional)").fill("looks good");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await shows(row(page, "deploy"), "succeeded");
    await shows(runHeading(page), "succeeded");
    await page.close();
  });

  it("shows the server's refusal in the dialog when a step was decided meanwhile", async () => {
    const spec = `steps:
  - name: gate
    command: echo through
    approval: true
`;
    const runId = await startDagRun(ui.stack, "ui-refused", spec);
    const page = await openRun("ui-refused", runId, "?step=gate");
    await shows(row(page, "gate"), "waiting");
    await page.getByRole("group", { name: "actions on gate" }).getByRole("button", { name: "Approve" }).click();
    // Someone else rejects the step while this dialog is open.
    const rejected = await ui.stack.api("POST", `/dag-runs/ui-refused/${runId}/steps/gate/reject`, {});
    expect(rejected.status).toBe(200);
    const dialog = page.getByRole("dialog", { name: "Approve" });
    await dialog.getByRole("button", { name: "Approve" }).click();
    await shows(dialog.getByRole("alert"), "bad_request");
    expect(await dialog.getByRole("alert").textContent()).toContain("rejected");
    await page.close();
  });

  it("retries from a step and shows its attempt become 2", async () => {
    const spec = `steps:
  - name: a
    command: echo a
  - name: b
    depends: a
    command: echo b
`;
    const runId = await startDagRun(ui.stack, "ui-retry", spec);
    await runEnded(ui.stack, "ui-retry", runId);
    const page = await openRun("ui-retry", runId, "?step=a");
    expect(await row(page, "a").getByRole("cell").nth(2).innerText()).toBe("1");
    await page.getByRole("button", { name: "Retry from here" }).click();
    const dialog = page.getByRole("dialog", { name: "Retry from here" });
    expect(await dialog.getByLabel("with the steps that depend on it").isChecked()).toBe(true);
    await dialog.getByRole("button", { name: "Retry from here" }).click();
    // The step and the one depending on it both ran again.
    for (const step of ["a", "b"]) {
      await expect.poll(() => row(page, step).getByRole("cell").nth(2).innerText(), { timeout: 30_000 }).toBe("2");
    }
    await shows(runHeading(page), "succeeded");
    await page.close();
  });

  it("stops a running run", async () => {
    const spec = `steps:
  - name: forever
    script: |
      while true; do sleep 0.05; done
`;
    const runId = await startDagRun(ui.stack, "ui-stop", spec);
    const page = await openRun("ui-stop", runId);
    await shows(row(page, "forever"), "running");
    await page.getByRole("group", { name: "run actions" }).getByRole("button", { name: "Stop" }).click();
    await page.getByRole("dialog", { name: "Stop" }).getByRole("button", { name: "Stop" }).click();
    await shows(runHeading(page), "aborted");
    await shows(row(page, "forever"), "aborted");
    await page.close();
  });

  it("sets a step's status on a finished run", async () => {
    const runId = await startDagRun(ui.stack, "ui-set-status", "steps:\n  - name: flaky\n    command: exit 3\n");
    await runEnded(ui.stack, "ui-set-status", runId);
    const page = await openRun("ui-set-status", runId, "?step=flaky");
    await shows(runHeading(page), "failed");
    await page.getByRole("button", { name: "Set status" }).click();
    const dialog = page.getByRole("dialog", { name: "Set status" });
    await dialog.getByLabel("New status").selectOption({ label: "succeeded" });
    await dialog.getByRole("button", { name: "Set status" }).click();
    await shows(row(page, "flaky"), "succeeded");
    await shows(runHeading(page), "succeeded");
    await page.close();
  });

  it("draws a timeline bar per step", async () => {
    const spec = `steps:
  - name: one
    command: echo 1
  - name: two
    depends: one
    command: echo 2
  - name: three
    depends: one
    command: echo 3
`;
    const runId = await startDagRun(ui.stack, "ui-timeline", spec);
    await runEnded(ui.stack, "ui-timeline", runId);
    const page = await openRun("ui-timeline", runId);
    await page.getByRole("tab", { name: "Timeline" }).click();
    const chart = page.getByRole("img", { name: "timeline of the steps" });
    await chart.waitFor();
    const titles = await chart.locator("rect.timeline-bar title").allTextContents();
    expect(titles.map((t) => t.split(":")[0]).sort()).toEqual(["one", "three", "two"]);
    expect(titles.every((t) => t.includes("succeeded"))).toBe(true);
    await chart.locator('g[data-step="two"] rect.timeline-bar').hover();
    await shows(page.locator(".timeline-info"), "two");
    expect(new URL(page.url()).searchParams.get("tab")).toBe("timeline");
    await screenshot(page, "run-timeline");
    await page.close();
  });

  it("links a call step to its sub-DAG run, and the sub-DAG run back to its parent", async () => {
    const spec = `steps:
  - name: caller
    call: ui-child
---
name: ui-child
steps:
  - name: inner
    command: echo from the child
`;
    const runId = await startDagRun(ui.stack, "ui-parent", spec);
    await runEnded(ui.stack, "ui-parent", runId);
    const page = await openRun("ui-parent", runId, "?step=caller");
    await page.getByRole("navigation", { name: "sub-DAG runs" }).getByRole("link").first().click();
    await shows(runHeading(page), "ui-child");
    await shows(row(page, "inner"), "succeeded");
    expect(new URL(page.url()).pathname).toMatch(new RegExp(`^/dags/ui-parent/runs/${runId}/sub/`));
    await page.getByRole("link", { name: `ui-parent / ${runId}` }).click();
    await shows(runHeading(page), "ui-parent");
    await page.close();
  });
});
