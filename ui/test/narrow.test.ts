// The UI in a narrow window (a small laptop at 800 px, a phone at 390 px): no page scrolls
// sideways, and the top bar's controls stay in the window and work.
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, startDagRun } from "../../test/e2e/harness";
import { startUiStack, type UiStack } from "./browser";

let ui: UiStack;
let page: Page;
let runId: string;

// The longest DAG name the server takes (40 characters) and a step name longer than any column.
const DAG = "nightly-warehouse-refresh-europe-orders1";
const STEP = "extract-customer-orders-from-the-legacy-warehouse-and-normalise-currencies";

beforeAll(async () => {
  ui = await startUiStack();
  runId = await startDagRun(
    ui.stack,
    DAG,
    `description: Refreshes the European warehouse every night from the legacy order database
tags: [etl, nightly, warehouse, europe, finance-reports]
schedule: "0 2 * * *"
steps:
  - name: ${STEP}
    command: echo extracted
  - name: load
    command: echo loaded
`,
  );
  await runEnded(ui.stack, DAG, runId);
  // A run still going, so that the queues page has its tables.
  await startDagRun(ui.stack, "sleeper", "steps:\n  - name: nap\n    command: sleep 600\n");
  page = await ui.page();
});
afterAll(async () => {
  await ui?.stop();
});

/** Each page with a text that shows its content has arrived. */
const PAGES = (): Array<[path: string, ready: string]> => [
  ["/dags", DAG],
  ["/runs", runId],
  [`/dags/${DAG}`, "Latest run"],
  [`/dags/${DAG}/runs/${runId}`, STEP],
  [`/dags/${DAG}/runs/${runId}?tab=timeline`, "Hover a bar"],
  ["/queues", "sleeper"],
  ["/runners", "ui-runner"],
  ["/system", "Scheduler"],
  ["/webhooks", "No webhooks yet"],
  ["/access", "No API keys yet"],
];

/** Whether a control lies wholly inside the window, so it can be seen and reached without scrolling sideways. */
async function insideWindow(control: Locator): Promise<boolean> {
  const box = await control.boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  return box !== null && box.x >= 0 && box.x + box.width <= width;
}

/** Opens the top bar's menu if the window is narrow enough to have one. */
async function mainNavigation(): Promise<Locator> {
  await page.getByRole("link", { name: "dagflare home" }).waitFor();
  const menu = page.getByRole("button", { name: "Menu" });
  if ((await menu.isVisible()) && (await menu.getAttribute("aria-expanded")) !== "true") await menu.click();
  return page.getByRole("navigation", { name: "main" });
}

for (const width of [800, 390]) {
  describe(`at ${width} px wide`, () => {
    beforeAll(async () => {
      await page.setViewportSize({ width, height: 800 });
    });

    it("has no page that scrolls sideways", async () => {
      const wide: string[] = [];
      for (const [path, ready] of PAGES()) {
        await page.goto(path);
        await page.getByRole("main").getByText(ready).first().waitFor();
        // A string, as the page's own globals are not the test's.
        const [scrollWidth, innerWidth] = await page.evaluate<[number, number]>(
          "[document.documentElement.scrollWidth, window.innerWidth]",
        );
        if (scrollWidth > innerWidth) wide.push(`${path} is ${scrollWidth} px wide`);
      }
      expect(wide).toEqual([]);
    });

    it("reaches every page from the top bar's navigation", async () => {
      await page.goto("/dags");
      for (const [link, heading] of [
        ["Runs", "Runs"],
        ["Queues", "Queues"],
        ["Runners", "Runners"],
        ["System", "System"],
        ["Webhooks", "Webhooks"],
        ["Users", "Users"],
        ["DAGs", "DAGs"],
      ]) {
        const target = (await mainNavigation()).getByRole("link", { name: link, exact: true });
        expect(await insideWindow(target), `${link} inside the window`).toBe(true);
        await target.click();
        await expect.poll(() => page.getByRole("heading", { level: 1 }).first().textContent()).toContain(heading);
      }
    });

    it("shows who is signed in, in full on request", async () => {
      await page.goto("/dags");
      const label = page.getByTestId("signed-in");
      expect(await label.getAttribute("title")).toBe("Signed in as DAGFLARE_API_TOKEN (admin)");
      if (await label.isVisible()) expect(await insideWindow(label)).toBe(true);
      // Where the bar shortens or leaves out the name, the menu says it whole.
      const menu = page.getByRole("button", { name: "Menu" });
      await menu.click();
      await expect.poll(() => page.getByTestId("menu-signed-in").textContent()).toBe("DAGFLARE_API_TOKEN (admin)");
      await page.keyboard.press("Escape");
      expect(await menu.getAttribute("aria-expanded")).toBe("false");
    });

    it("signs out from the top bar", async () => {
      const tab = await ui.page();
      await tab.setViewportSize({ width, height: 800 });
      // The bar is full once it knows who is signed in (the name may be left to the menu).
      await tab.getByTestId("signed-in").waitFor({ state: "attached" });
      const signOut = tab.getByRole("button", { name: "Sign out" });
      const box = await signOut.boundingBox();
      expect(box !== null && box.x + box.width <= width).toBe(true);
      await signOut.click();
      await tab.getByRole("button", { name: "Sign in" }).waitFor();
      await tab.close();
    });
  });
}
