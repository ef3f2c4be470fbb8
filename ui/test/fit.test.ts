// The lists fit their window: a run's steps on a phone without sideways scrolling, a DAG's
// schedule on one line, a queue's two tables in the same columns, and a card's field labels as
// real text, shown only where the card layout needs them.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, startDagRun } from "../../test/e2e/harness";
import { screenshot, startUiStack, tooWide, type UiStack } from "./browser";

let ui: UiStack;
let page: Page;
let runId: string;

const DAG = "weekday-orders-refresh";
// Longer than the 24 characters a list shows whole: cut with an ellipsis, whole in its title.
const CRON = "0,15,30,45 6-22 1-7,15-21 * MON-FRI";
const STEP = "extract-customer-orders-from-the-legacy-warehouse-and-normalise-currencies";

beforeAll(async () => {
  ui = await startUiStack();
  runId = await startDagRun(
    ui.stack,
    DAG,
    `description: Refreshes the orders every quarter of an hour on weekdays
tags: [etl, orders]
schedule: "${CRON}"
steps:
  - name: ${STEP}
    command: echo extracted
  - name: load
    command: sh -c 'echo loading; exit 3'
    depends: [${STEP}]
`,
  );
  await runEnded(ui.stack, DAG, runId);
  // A run going and one waiting behind it: the queues page shows both its tables.
  await startDagRun(ui.stack, "sleeper", "maxActiveRuns: 1\nsteps:\n  - name: nap\n    command: sleep 600\n");
  await ui.stack.api("POST", "/dags/sleeper/start", {});
  page = await ui.page();
});
afterAll(async () => {
  await ui?.stop();
});

/** How many lines an element's text takes. */
function linesOf(selector: string): Promise<number> {
  return page.evaluate<number>(`(() => {
    const range = document.createRange();
    range.selectNodeContents(document.querySelector(${JSON.stringify(selector)}));
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  })()`);
}

describe("a run's steps on a phone (390 px)", () => {
  beforeAll(async () => {
    await page.setViewportSize({ width: 390, height: 800 });
  });

  it("fit the window, each step's status and its attempt, runner, start, duration and exit code in view", async () => {
    await page.goto(`/dags/${DAG}/runs/${runId}`);
    const steps = page.getByRole("table", { name: "steps" });
    const load = steps.getByRole("row").filter({ has: page.getByRole("button", { name: "load", exact: true }) });
    await load.waitFor();
    expect(await tooWide(page)).toEqual([]);
    expect(await load.getByText("failed", { exact: true }).isVisible()).toBe(true);
    for (const [label, value] of [
      ["Attempt", "1"],
      ["Runner", "ui-runner"],
      ["Exit", "3"],
    ] as const) {
      const cell = load.getByRole("cell").filter({ has: page.getByText(label, { exact: true }) });
      expect(await cell.isVisible(), `${label} shown`).toBe(true);
      expect(await cell.textContent()).toContain(value);
    }
    for (const label of ["Started", "Duration"]) {
      const cell = load.getByRole("cell").filter({ has: page.getByText(label, { exact: true }) });
      expect(await cell.isVisible(), `${label} shown`).toBe(true);
      expect(await cell.textContent()).toMatch(/\d/);
    }
    await screenshot(page, "run-phone");
  });

  it("open a step's panel with its actions and log, also within the window", async () => {
    await page.goto(`/dags/${DAG}/runs/${runId}`);
    await page.getByRole("table", { name: "steps" }).getByRole("button", { name: "load", exact: true }).click();
    const panel = page.getByRole("complementary", { name: "step load" });
    await expect.poll(() => panel.textContent()).toContain("exit code 3");
    await panel.getByText("loading").waitFor();
    expect(await panel.getByRole("group", { name: "actions on load" }).isVisible()).toBe(true);
    expect(await tooWide(page)).toEqual([]);
  });
});

describe("a run's steps on a laptop (1280 px)", () => {
  it("cut a name longer than its column with an ellipsis, the whole name in its tooltip", async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`/dags/${DAG}/runs/${runId}`);
    const name = page.getByRole("table", { name: "steps" }).getByRole("button", { name: STEP, exact: true });
    await name.waitFor();
    // Cut: its text is wider than the room it is shown in.
    expect(await name.evaluate((b) => b.scrollWidth > b.clientWidth)).toBe(true);
    expect(await name.getAttribute("title")).toBe(STEP);
  });
});

/** The lists that show a DAG's schedule: where, and the table's name. */
const SCHEDULES = [
  ["the DAG list", "/dags", "DAGs"],
  ["the system's next firings", "/system", "next schedule firings"],
] as const;

describe("a DAG's schedule", () => {
  for (const [list, path, table] of SCHEDULES) {
    for (const width of [1280, 800, 390]) {
      it(`stays on one line in ${list} at ${width} px, the whole expression in its title`, async () => {
        await page.setViewportSize({ width, height: 800 });
        await page.goto(path);
        const cron = page.getByRole("table", { name: table }).getByText(CRON, { exact: true });
        await cron.waitFor();
        expect(await cron.getAttribute("title")).toBe(CRON);
        expect(await linesOf(`table[aria-label="${table}"] code[title="${CRON}"]`)).toBe(1);
      });
    }
  }
});

describe("a queue's running and waiting runs", () => {
  for (const width of [1280, 800]) {
    it(`are in the same columns at ${width} px`, async () => {
      await page.setViewportSize({ width, height: 800 });
      await page.goto("/queues");
      const queue = page.getByRole("region", { name: "queue sleeper" });
      const lefts = async (table: string) => {
        const heads = queue.getByRole("table", { name: table }).getByRole("columnheader");
        await heads.first().waitFor();
        return heads.evaluateAll((ths) => ths.map((th) => Math.round(th.getBoundingClientRect().left)));
      };
      const running = await lefts("Running");
      const waiting = await lefts("Waiting");
      // The waiting runs have one column more, their actions, at the end.
      expect(running.length).toBeGreaterThan(3);
      expect(waiting.slice(0, running.length)).toEqual(running);
    });
  }
});

describe("a card's field labels", () => {
  it("are text in the card on a phone, not generated content", async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto("/runs");
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: runId, exact: true }) });
    const label = row.getByText("Started", { exact: true });
    await label.waitFor();
    const generated = await page.evaluate<string[]>(
      `[...document.querySelectorAll("td")].map((td) => getComputedStyle(td, "::before").content).filter((c) => c !== "none")`,
    );
    expect(generated).toEqual([]);
    // A label can be selected and copied with its value, as any text.
    await label.selectText();
    expect(await page.evaluate("String(window.getSelection())")).toBe("Started");
  });

  it("are left out of the table, whose heads name the columns, in a wide window", async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto("/runs");
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: runId, exact: true }) });
    await row.waitFor();
    expect(await row.getByText("Started", { exact: true }).count()).toBe(1);
    expect(await row.getByText("Started", { exact: true }).isVisible()).toBe(false);
    // What a screen reader reads of the row: its values, the heads naming them, no label again.
    expect(await row.ariaSnapshot()).not.toContain("Started");
  });
});
