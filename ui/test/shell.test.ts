// The UI's frame: served by the Worker from the same origin, behind the API token, with a CSP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUiStack, type UiStack, USER_TOKEN } from "./browser";

let ui: UiStack;
beforeAll(async () => {
  ui = await startUiStack();
});
afterAll(async () => {
  await ui?.stop();
});

describe("the web UI's frame", () => {
  it("is served at / with a Content-Security-Policy that allows no inline script", async () => {
    const res = await fetch(`${ui.stack.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it("serves the UI for a client route and JSON errors for an unknown API path", async () => {
    const page = await fetch(`${ui.stack.url}/dags/some-dag`, {
      headers: { "sec-fetch-mode": "navigate", accept: "text/html" },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const api = await fetch(`${ui.stack.url}/api/v2/no-such-thing`, {
      headers: { authorization: `Bearer ${USER_TOKEN}` },
    });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { code: string }).code).toBe("not_found");
  });

  it("asks for the token, refuses a wrong one and signs in with the right one", async () => {
    const page = await ui.browser.newPage();
    await page.goto("/");
    await page.getByLabel("With an API token or key").check();
    await page.getByLabel("API token", { exact: true }).fill("not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("token");
    await page.getByLabel("API token", { exact: true }).fill(USER_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("navigation", { name: "main" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/dags");
    // The token lives in this tab only.
    expect(await page.evaluate(() => sessionStorage.getItem("dagflare.token"))).toBe(USER_TOKEN);
    expect(await page.evaluate(() => localStorage.getItem("dagflare.token"))).toBeNull();
    await page.close();
  });

  it("moves between pages from the navigation bar", async () => {
    const page = await ui.page();
    for (const [link, heading] of [
      ["Runs", "Runs"],
      ["Queues", "Queues"],
      ["Runners", "Runners"],
      ["System", "System"],
      ["DAGs", "DAGs"],
    ]) {
      await page.getByRole("navigation", { name: "main" }).getByRole("link", { name: link }).click();
      await expect.poll(() => page.getByRole("heading", { level: 1 }).first().textContent()).toContain(heading);
    }
    await page.close();
  });
});
