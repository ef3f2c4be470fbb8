// The UI in a narrow window (a small laptop at 800 px, a phone at 390 px): no page scrolls
// sideways, the top bar's controls stay in the window and work, and a list's rows, as cards on a
// phone, keep their actions in reach; and the top bar marks the current page at every width.
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEnded, startDagRun } from "../../test/e2e/harness";
import { openNavigation, screenshot, signIn, startUiStack, type UiStack } from "./browser";

let ui: UiStack;
let page: Page;
let runId: string;
let waitingRunId: string;

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
  // A run still going and one waiting behind it, so that the queues page has both its tables.
  await startDagRun(ui.stack, "sleeper", "maxActiveRuns: 1\nsteps:\n  - name: nap\n    command: sleep 600\n");
  waitingRunId = (await ui.stack.api("POST", "/dags/sleeper/start", {})).body.dagRunId;
  expect((await ui.stack.api("POST", "/runner-tokens", { name: "phone-token" })).status).toBe(201);
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

/** Opens each page in turn, yielding its path once its content has arrived. */
async function* eachPage(): AsyncGenerator<string> {
  for (const [path, ready] of PAGES()) {
    await page.goto(path);
    await page.getByRole("main").getByText(ready).first().waitFor();
    yield path;
  }
}

/** Whether a control lies wholly inside the window, so it can be seen and reached without scrolling sideways. */
async function insideWindow(control: Locator): Promise<boolean> {
  const box = await control.boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  return box !== null && box.x >= 0 && box.x + box.width <= width;
}

const SECTIONS: Record<string, string> = {
  "/runs": "Runs",
  "/queues": "Queues",
  "/runners": "Runners",
  "/system": "System",
  "/webhooks": "Webhooks",
  "/access": "Users",
};

/** A list's row (a card on a phone) that links to `name`. */
const rowOf = (name: string) => page.getByRole("row").filter({ has: page.getByRole("link", { name, exact: true }) });

for (const width of [800, 390]) {
  describe(`at ${width} px wide`, () => {
    beforeAll(async () => {
      await page.setViewportSize({ width, height: 800 });
    });

    it("has no page that scrolls sideways", async () => {
      const wide: string[] = [];
      for await (const path of eachPage()) {
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
        const target = (await openNavigation(page)).getByRole("link", { name: link, exact: true });
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

    it("signs out from the top bar and back in", async () => {
      const tab = await ui.page({ width });
      // The bar is full once it knows who is signed in (the name may be left to the menu).
      await tab.getByTestId("signed-in").waitFor({ state: "attached" });
      const signOut = tab.getByRole("button", { name: "Sign out" });
      const box = await signOut.boundingBox();
      expect(box !== null && box.x + box.width <= width).toBe(true);
      await signOut.click();
      await signIn(tab);
      expect(await (await openNavigation(tab)).getByRole("link", { name: "Runs", exact: true }).isVisible()).toBe(true);
      await tab.close();
    });
  });
}

for (const width of [1280, 1024, 800, 390]) {
  describe(`the top bar at ${width} px wide`, () => {
    beforeAll(async () => {
      await page.setViewportSize({ width, height: 800 });
    });

    it("marks the section of the page shown: Runs on a run's page, DAGs on a DAG's page", async () => {
      const current: string[] = [];
      for await (const path of eachPage()) {
        const nav = await openNavigation(page);
        const marked = await nav.locator('a[aria-current="page"]').allTextContents();
        current.push(`${path}: ${marked.join(", ")}`);
      }
      // A run's page belongs to Runs, a DAG's page to DAGs, every other page to its own link.
      const section = (path: string) =>
        path.includes("/runs/") ? "Runs" : path.startsWith("/dags") ? "DAGs" : SECTIONS[path];
      expect(current).toEqual(PAGES().map(([path]) => `${path}: ${section(path)}`));
    });
  });
}

describe("a list on a phone (390 px)", () => {
  beforeAll(async () => {
    await page.setViewportSize({ width: 390, height: 800 });
  });

  it("shows a DAG's latest status and schedule with its Suspend and Start buttons, none past the window's edge", async () => {
    await page.goto("/dags");
    const row = rowOf(DAG);
    await expect.poll(() => row.textContent()).toContain("succeeded");
    expect(await row.textContent()).toContain("0 2 * * *");
    for (const control of [
      row,
      row.getByRole("button", { name: `Suspend ${DAG}` }),
      row.getByRole("button", { name: `Start ${DAG}` }),
    ]) {
      expect(await insideWindow(control)).toBe(true);
    }
    await screenshot(page, "dags-phone");
  });

  it("shows a DAG whose latest run waits in its queue as queued, not as never run", async () => {
    await page.goto("/dags");
    const row = rowOf("sleeper");
    await expect.poll(() => row.textContent()).toContain("queued");
    expect(await row.textContent()).not.toContain("never run");
  });

  it("shows a run's DAG, status and start inside the window, and opens the run on a tap of its card", async () => {
    await page.goto("/runs");
    const row = rowOf(runId);
    await row.waitFor();
    expect(await insideWindow(row)).toBe(true);
    expect(await insideWindow(row.getByText("succeeded"))).toBe(true);
    expect(await insideWindow(row.getByRole("link", { name: DAG, exact: true }))).toBe(true);
    // A tap on the card away from its links (its bottom right corner) opens the run, as on any phone list.
    const box = await row.boundingBox();
    await row.click({ position: { x: (box?.width ?? 0) - 8, y: (box?.height ?? 0) - 8 } });
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/dags/${DAG}/runs/${runId}`);
  });

  it("reaches a waiting run's Dequeue button and a runner token's Revoke button without scrolling sideways", async () => {
    await page.goto("/queues");
    const dequeue = page.getByRole("button", { name: `Dequeue ${waitingRunId}` });
    await dequeue.waitFor();
    expect(await insideWindow(dequeue)).toBe(true);
    await page.goto("/runners");
    const revoke = page.getByRole("button", { name: "Revoke phone-token" });
    await revoke.waitFor();
    expect(await insideWindow(revoke)).toBe(true);
    expect(await insideWindow(page.getByRole("row").filter({ hasText: "ui-runner" }))).toBe(true);
  });
});

describe("a list in a window too narrow for its table (680 px)", () => {
  beforeAll(async () => {
    await page.setViewportSize({ width: 680, height: 800 });
  });

  it("keeps a DAG's Suspend and Start buttons in view while its table scrolls sideways", async () => {
    await page.goto("/dags");
    const row = rowOf(DAG);
    await row.waitFor();
    // The table is wider than its box, so it scrolls sideways...
    const box = page.locator(".table-scroll", { has: page.getByRole("table", { name: "DAGs" }) });
    expect(await box.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    // ...and its actions stay at the box's right edge.
    expect(await insideWindow(row.getByRole("button", { name: `Suspend ${DAG}` }))).toBe(true);
    expect(await insideWindow(row.getByRole("button", { name: `Start ${DAG}` }))).toBe(true);
  });
});
