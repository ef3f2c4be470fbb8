// The browser harness: the real local stack (wrangler dev serving the built UI, real runners) and
// Debian's Chromium driven by playwright-core, with a fresh profile per test file.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { type Stack, startStack, tempDir, USER_TOKEN } from "../../test/e2e/harness";

export { USER_TOKEN };

/** Debian's Chromium: `CHROMIUM_PATH`, else `chromium` on PATH. */
function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("Chromium not found: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH");
  }
}

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface UiStack {
  stack: Stack;
  browser: BrowserContext;
  /** A new tab, signed in with the API token; `width` sets the window's width before it signs in. */
  page(opts?: { width?: number }): Promise<Page>;
  stop(): Promise<void>;
}

export async function startUiStack(
  opts: { runners?: string[]; leaseTtlMs?: number; vars?: Record<string, string> } = {},
): Promise<UiStack> {
  const stack = await startStack({
    runners: opts.runners ?? ["ui-runner"],
    leaseTtlMs: opts.leaseTtlMs,
    ...(opts.vars && { vars: opts.vars }),
  });
  let browser: BrowserContext;
  try {
    browser = await chromium.launchPersistentContext(tempDir("chromium"), {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1400, height: 900 },
      baseURL: stack.url,
    });
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return {
    stack,
    browser,
    async page(opts = {}) {
      const page = await browser.newPage();
      if (opts.width) await page.setViewportSize({ width: opts.width, height: 800 });
      await page.goto("/");
      await signIn(page);
      return page;
    },
    async stop() {
      await browser.close();
      await stack.stop();
    },
  };
}

/**
 * Signs in on the sign-in screen (the stack requires a token), at any window width: it is done
 * when the main navigation can be reached, in the bar or, in a narrow window, through the Menu
 * button (whose panel it closes again).
 */
export async function signIn(page: Page, token = USER_TOKEN): Promise<void> {
  await page.getByLabel("With an API token or key").check();
  await page.getByLabel("API token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await openNavigation(page);
  const menu = page.getByRole("button", { name: "Menu" });
  if ((await menu.isVisible()) && (await menu.getAttribute("aria-expanded")) === "true") await menu.click();
}

/**
 * The main navigation, shown: in a window wide enough it is in the bar; in a narrow one it is
 * folded into the Menu button, which this opens.
 */
export async function openNavigation(page: Page): Promise<Locator> {
  await page.getByRole("link", { name: "dagflare home" }).waitFor();
  const menu = page.getByRole("button", { name: "Menu" });
  if ((await menu.isVisible()) && (await menu.getAttribute("aria-expanded")) !== "true") await menu.click();
  const nav = page.getByRole("navigation", { name: "main" });
  await nav.waitFor();
  return nav;
}

/** Saves a screenshot for the README under docs/screenshots/ when UI_SCREENSHOTS is set. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.UI_SCREENSHOTS) return;
  const dir = path.resolve(import.meta.dirname, "../../docs/screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/**
 * What in the page's main part or an open dialog is wider than the window or scrolls sideways:
 * each as a short description (a string, as the page's own globals are not the test's).
 */
export function tooWide(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const wide = [];
    const name = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
    for (const el of document.querySelectorAll("main *, dialog[open] *")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.width > window.innerWidth) wide.push(name(el) + " is " + Math.round(r.width) + " px wide");
      const x = getComputedStyle(el).overflowX;
      if ((x === "auto" || x === "scroll") && el.scrollWidth > el.clientWidth + 1)
        wide.push(name(el) + " scrolls sideways (" + el.scrollWidth + " in " + el.clientWidth + " px)");
    }
    return wide;
  })()`);
}

/**
 * The controls (buttons, links, fields) cut off: partly outside the window, or outside a box
 * that hides what overflows it, where no scrolling brings them into view. A control in a box
 * that scrolls sideways is reached by scrolling it; the graph's canvas pans instead.
 */
export function clippedControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const cut = [];
    const controls = document.querySelectorAll("main :is(a, button, input, select, textarea), dialog[open] :is(a, button, input, select, textarea)");
    for (const el of controls) {
      if (el.closest(".react-flow")) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      let left = 0, right = window.innerWidth, scrolls = false;
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const x = getComputedStyle(a).overflowX;
        if (x === "auto" || x === "scroll") { scrolls = true; break; }
        if (x === "hidden" || x === "clip") {
          const b = a.getBoundingClientRect();
          left = Math.max(left, b.left);
          right = Math.min(right, b.right);
        }
      }
      if (!scrolls && (r.left < left - 1 || r.right > right + 1))
        cut.push(el.tagName.toLowerCase() + ' "' + (el.getAttribute("aria-label") || el.textContent || el.getAttribute("name") || "").trim().slice(0, 40) + '" spans ' + Math.round(r.left) + "-" + Math.round(r.right) + " px, visible " + Math.round(left) + "-" + Math.round(right));
    }
    return cut;
  })()`);
}
