// How a route reads its JSON body (src/routes/validate.ts): empty reads as {}, anything else
// must be JSON sent as JSON, and every field at fault is named.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createDag, USER_TOKEN } from "./helpers";

async function post(path: string, body: string, contentType?: string) {
  const res = await exports.default.fetch(`http://dagflare.test/api/v2${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${USER_TOKEN}`, ...(contentType && { "content-type": contentType }) },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe("request bodies", () => {
  it("reads an empty body as an empty object, with or without a JSON content type", async () => {
    await createDag("bodiless", "steps:\n  - echo hi\n");
    expect((await post("/dags/bodiless/start", "", "application/json")).status).toBe(200);
    expect((await post("/dags/bodiless/start", "")).status).toBe(200);
  });

  it("refuses a JSON body sent under another media type with 415 naming Content-Type", async () => {
    const r = await post("/dags", JSON.stringify({ name: "plain" }), "text/plain");
    expect(r.status).toBe(415);
    expect(r.body).toMatchObject({ code: "bad_request", details: { field: "Content-Type" } });
    expect(r.body.message).toMatch(/Content-Type: application\/json/);
    expect((await api("GET", "/dags/plain")).status).toBe(404);
  });

  it("names every field at fault, in the message and in details.fields", async () => {
    const r = await api("POST", "/dags", { name: 5, spec: 7 });
    expect(r.status).toBe(400);
    expect(r.body.details.fields).toEqual(["name", "spec"]);
    expect(r.body.message).toMatch(/^name: .*; spec: /);
  });

  it("names the path parameter at fault with the value given", async () => {
    const r = await api("GET", "/dags/bad%20name");
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: "bad_request", details: { field: "fileName" } });
    expect(r.body.message).toBe('invalid DAG name "bad name": must match ^[a-zA-Z0-9_-]+$');
  });
});
