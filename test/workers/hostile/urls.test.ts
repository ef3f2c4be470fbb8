// Over-long URLs: a 414 in the contract's error shape, with or without credentials.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_URL_BYTES } from "../../../src/limits";
import { USER_TOKEN } from "../helpers";

async function get(path: string, token?: string) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const res = await exports.default.fetch(`http://dagflare.test${path}`, { headers });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as any };
}

describe("an over-long URL", () => {
  it.each([
    ["a query", `/api/v2/dags/search?q=${"x".repeat(MAX_URL_BYTES)}`],
    ["a path", `/api/v2/dags/${"x".repeat(MAX_URL_BYTES)}`],
  ])("in %s is a 414 with the contract's error body", async (_where, path) => {
    for (const token of [USER_TOKEN, undefined]) {
      const r = await get(path, token);
      expect(r.status).toBe(414);
      expect(r.type).toMatch(/application\/json/);
      expect(r.body).toEqual({ code: "bad_request", message: expect.stringMatching(/limit of 8 KiB for a URL/) });
    }
  });

  it("below the limit is served as usual", async () => {
    const r = await get(`/api/v2/dags/search?q=${"x".repeat(MAX_URL_BYTES - 200)}`, USER_TOKEN);
    expect(r.status).toBe(200);
  });
});
