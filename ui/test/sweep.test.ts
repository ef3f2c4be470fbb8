// Every page of the UI at a phone's, a small laptop's and a desktop's width, filled with the
// longest names users give (a DAG's, a queue's, a step's, a runner's, a token's, a webhook's, a
// user's, an API key's) and a spec whose lines are longer than a phone is wide: no page scrolls
// sideways, no control is cut off, and on a phone nothing in the page is wider than the window.
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, startDagRun, waitFor } from "../../test/e2e/harness";
import { clippedControls, screenshot, startUiStack, tooWide, type UiStack } from "./browser";

let ui: UiStack;
let page: Page;
let runId: string;

// Each as long as the server takes, or longer than any column, and without a hyphen or a space
// where a line could break.
const DAG = "quarterly_finance_consolidation_emea_apa";
const SLEEPER = "finance_consolidation_warehouse_loader_1";
const QUEUE = "finance_consolidation_shared_warehouse_loaders_emea_apac_priorit";
const STEP = "extract_customer_orders_from_the_legacy_warehouse_and_normalise_currencies";
const RUNNER = "runner_eu_central_1_7f9c2b7e1d4a40b58c6e2f1a9d3b5c7e";
const LONG = "finance_consolidation_ci_pipeline_for_the_emea_and_apac_regions_nightly";
const USER = "finance.consolidation.emea.apac.reporting.service.account.robot1";

async function ok(method: string, path: string, body?: unknown): Promise<void> {
  const r = await ui.stack.api(method, path, body);
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
}

beforeAll(async () => {
  expect(DAG.length).toBe(40);
  expect(SLEEPER.length).toBe(40);
  expect(QUEUE.length).toBe(64);
  ui = await startUiStack({ runners: [RUNNER], vars: { DAGFLARE_WEBHOOKS_LOOPBACK: "on" } });
  runId = await startDagRun(
    ui.stack,
    DAG,
    `description: Consolidates the quarter's ledgers of every EMEA and APAC subsidiary into the group's reporting warehouse
tags: [finance, quarterly-consolidation-emea-apac-reports]
group: finance-consolidation-reporting
schedule: "0,15,30,45 6-22 * * MON-FRI"
queue: ${QUEUE}
params:
  - REGIONS: emea-north,emea-south,apac-japan,apac-australia-new-zealand,apac-south-east-asia
steps:
  - name: ${STEP}
    command: python3 -c "import sys; print('consolidated_ledger_file_for_the_emea_and_apac_regions_of_the_quarter_2026_q4.parquet', 'from the ledgers of', len(sys.argv), 'subsidiaries', sep=' ')"
    output: CONSOLIDATED_LEDGER_FILE_FOR_THE_QUARTER
  - name: load
    command: sh -c 'echo loading_the_consolidated_ledgers_into_the_group_reporting_warehouse_of_the_quarter; exit 3'
    depends: [${STEP}]
`,
  );
  await runEnded(ui.stack, DAG, runId);
  // A run going and one waiting behind it in the long-named queue.
  await startDagRun(ui.stack, SLEEPER, `queue: ${QUEUE}\nsteps:\n  - name: nap\n    command: sleep 600\n`);
  await ok("POST", `/dags/${SLEEPER}/start`, {});
  await ok("POST", "/runner-tokens", { name: LONG });
  await ok("POST", "/api-keys", { name: LONG, role: "viewer" });
  await ok("POST", "/users", { username: USER, password: "a long enough password", role: "viewer" });
  await ok("POST", "/outgoing-webhooks", {
    name: LONG,
    url: `http://127.0.0.1:9/hooks/${LONG}/deliveries`,
    events: ["dag.*"],
    filters: { dagNames: [DAG, SLEEPER] },
  });
  page = await ui.page();
});
afterAll(async () => {
  await ui?.stop();
});

const main = () => page.getByRole("main");

/** Each page: how to open it and what shows its content has arrived. */
const PAGES: Array<[name: string, open: () => Promise<Locator>]> = [
  ["the DAG list", async () => (await go("/dags")).getByRole("link", { name: DAG, exact: true })],
  ["a DAG's graph", async () => (await go(`/dags/${DAG}`)).getByText("load", { exact: true }).first()],
  ["a DAG's history", async () => (await go(`/dags/${DAG}?tab=history`)).getByRole("table").first()],
  ["a DAG's spec", async () => (await go(`/dags/${DAG}?tab=spec`)).getByText("The spec is valid.")],
  ["a DAG's runs", async () => (await go(`/dags/${DAG}?tab=runs`)).getByRole("link", { name: runId })],
  [
    "the start dialog",
    async () => {
      await go(`/dags/${DAG}`);
      await page.getByRole("button", { name: `Start ${DAG}` }).click();
      return page.getByRole("dialog", { name: `Start ${DAG}` }).getByLabel("REGIONS");
    },
  ],
  ["a run's steps", async () => (await go(`/dags/${DAG}/runs/${runId}`)).getByText(STEP).first()],
  [
    "a run's step log",
    async () => (await go(`/dags/${DAG}/runs/${runId}?step=load`)).getByText("loading_the_consolidated").first(),
  ],
  [
    "a run's graph",
    async () => (await go(`/dags/${DAG}/runs/${runId}?tab=graph`)).getByText("load", { exact: true }).first(),
  ],
  ["a run's timeline", async () => (await go(`/dags/${DAG}/runs/${runId}?tab=timeline`)).getByText("Hover a bar")],
  [
    "a run's outputs",
    async () => (await go(`/dags/${DAG}/runs/${runId}?tab=outputs`)).getByText("consolidated_ledger_file").first(),
  ],
  ["a run's activity", async () => (await go(`/dags/${DAG}/runs/${runId}?tab=activity`)).getByText("start").first()],
  ["the runs", async () => (await go("/runs")).getByRole("link", { name: runId })],
  ["the queues", async () => (await go("/queues")).getByText("maxConcurrency").first()],
  ["the runners", async () => (await go("/runners")).getByText(LONG).first()],
  ["the system", async () => (await go("/system")).getByText("0,15,30,45 6-22 * * MON-FRI").first()],
  ["the webhooks", async () => (await go("/webhooks")).getByText(LONG).first()],
  ["the users and API keys", async () => (await go("/access")).getByText(LONG).first()],
];

async function go(path: string): Promise<Locator> {
  await page.goto(path);
  return main();
}

for (const width of [390, 800, 1280]) {
  describe(`at ${width} px wide`, () => {
    beforeAll(async () => {
      await page.setViewportSize({ width, height: 800 });
    });

    it.each(PAGES)("%s fits the window: no sideways scroll, no control cut off", async (_name, open) => {
      await (await open()).waitFor();
      // The page settles (fonts, the graph's layout, virtualised rows measured) before it is measured.
      await waitFor("the page to settle", async () => (await page.evaluate("document.fonts.status")) === "loaded");
      const [scrollWidth, innerWidth] = await page.evaluate<[number, number]>(
        "[document.documentElement.scrollWidth, window.innerWidth]",
      );
      expect(scrollWidth, "the page's width").toBeLessThanOrEqual(innerWidth);
      expect(await clippedControls(page)).toEqual([]);
      // On a phone not even a box in the page scrolls sideways (the graph's canvas pans instead).
      if (width === 390) expect(await tooWide(page)).toEqual([]);
    });
  });
}

/** Where each visual line of the spec's first line holding `text` starts, and where its text starts. */
function wrappedLine(text: string): Promise<{ textLeft: number; lineLefts: number[] }> {
  return page.evaluate(`(() => {
    const line = [...document.querySelectorAll(".cm-line")].find((l) => l.textContent.includes(${JSON.stringify(text)}));
    const range = document.createRange();
    range.selectNodeContents(line);
    const rows = new Map();
    for (const r of range.getClientRects()) {
      const top = Math.round(r.top);
      rows.set(top, Math.min(rows.get(top) ?? Infinity, r.left));
    }
    // The line's first character after its indentation.
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    let first = null;
    for (let n = walker.nextNode(); n && !first; n = walker.nextNode()) {
      const at = n.textContent.search(/[^ ]/);
      if (at >= 0) first = [n, at];
    }
    const start = document.createRange();
    start.setStart(first[0], first[1]);
    start.setEnd(first[0], first[1] + 1);
    return { textLeft: Math.round(start.getBoundingClientRect().left), lineLefts: [...rows.keys()].sort((a, b) => a - b).map((t) => Math.round(rows.get(t))) };
  })()`);
}

describe("a spec's lines longer than the editor", () => {
  for (const width of [390, 1280]) {
    it(`wrap at ${width} px, each continuation under its line's text, the YAML unchanged`, async () => {
      // Tall enough that the editor draws every line of the spec (it draws only those in view).
      await page.setViewportSize({ width, height: 3000 });
      await page.goto(`/dags/${DAG}?tab=spec`);
      await page.getByText("The spec is valid.").waitFor();
      const scroller = page.locator(".spec-editor .cm-scroller");
      expect(await scroller.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
      // The step's command is longer than the editor at either width: it takes several lines,
      // each continuation starting under "command", not at the editor's edge.
      const { textLeft, lineLefts } = await wrappedLine("command: python3");
      expect(lineLefts.length).toBeGreaterThan(1);
      for (const left of lineLefts.slice(1)) expect(Math.abs(left - textLeft)).toBeLessThanOrEqual(1);
      // What the editor holds is the spec as saved, line for line.
      const saved = (await ui.stack.api("GET", `/dags/${DAG}/spec`)).body.spec as string;
      const lines = await page.locator(".spec-editor .cm-line").allTextContents();
      expect(lines.join("\n")).toBe(saved);
      if (width === 390) {
        await page.setViewportSize({ width, height: 800 });
        await page.locator(".spec-editor .cm-line", { hasText: "command: python3" }).scrollIntoViewIfNeeded();
        await screenshot(page, "spec-phone");
      }
    });
  }
});
