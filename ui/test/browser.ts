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
