// dagflare login, validate, push and dry, and what every command does with bad input: one clear
// line, a non-zero exit code, nothing half-done. Real process, real local stack.
import { readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli } from "../../scripts/build-cli.mjs";
import { freePort, type Stack, startStack, USER_TOKEN } from "../e2e/harness";
import { CliUser, lines } from "./harness";

let stack: Stack;
let user: CliUser;
let notDagflare: Server;
let notDagflareUrl: string;

const VALID = "steps:\n  - name: a\n    command: echo a\n  - name: b\n    command: echo b\n";

beforeAll(async () => {
  await buildCli();
  stack = await startStack({ runners: [] });
  user = new CliUser({ DAGFLARE_SERVER: stack.url, DAGFLARE_TOKEN: USER_TOKEN });
  // Some other web server, at an address a user might type by mistake.
  notDagflare = createServer((_req, res) => res.writeHead(404, { "content-type": "text/html" }).end("<h1>nope</h1>"));
  const port = await freePort();
  await new Promise<void>((r) => notDagflare.listen(port, "127.0.0.1", r));
  notDagflareUrl = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  notDagflare?.close();
  await stack?.stop();
});

const dagNames = async () =>
  ((await stack.api("GET", "/dags?perPage=1000")).body.dags as { fileName: string }[]).map((d) => d.fileName).sort();

describe("dagflare login", () => {
  it("checks the token and saves server and token in a file only the user can read", async () => {
    const fresh = new CliUser();
    const r = await fresh.run(["login", "--server", stack.url], { env: { DAGFLARE_TOKEN: USER_TOKEN } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^logged in to http:\/\/127\.0\.0\.1:\d+ \(dagflare [\d.]+\)$/m);
    const file = path.join(fresh.configDir, "dagflare", "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ server: stack.url, token: USER_TOKEN });
    // Later commands need neither flag nor environment.
    const runs = await fresh.run(["runs"]);
    expect(runs.code, runs.stderr).toBe(0);
  });

  it("reads the token from standard input with --with-token", async () => {
    const fresh = new CliUser();
    const r = await fresh.run(["login", "--server", stack.url, "--with-token"], { input: `${USER_TOKEN}\n` });
    expect(r.code, r.stderr).toBe(0);
  });

  it("refuses a wrong token in one line, exits 1 and saves nothing", async () => {
    const fresh = new CliUser();
    const r = await fresh.run(["login", "--server", stack.url], { env: { DAGFLARE_TOKEN: "wrong" } });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      "error: the server refused the request (invalid bearer token): run `dagflare login`, or set DAGFLARE_TOKEN to the API token",
    ]);
    expect(() => statSync(path.join(fresh.configDir, "dagflare", "config.json"))).toThrow();
  });

  it("never sends the saved token to another server", async () => {
    const fresh = new CliUser();
    await fresh.run(["login", "--server", stack.url], { env: { DAGFLARE_TOKEN: USER_TOKEN } });
    const elsewhere = stack.url.replace("127.0.0.1", "localhost");
    const r = await fresh.run(["runs", "--server", elsewhere]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      "error: the server refused the request (missing bearer token (Authorization: Bearer <token>)): run `dagflare login`, or set DAGFLARE_TOKEN to the API token",
    ]);
  });
});

describe("dagflare validate", () => {
  it("exits 0 for valid files", async () => {
    const dir = user.dagFolder("valid", { "one.yaml": VALID, "two.yml": VALID });
    const r = await user.run(["validate", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("2 DAG files valid\n");
  });

  it("writes every error as file:line: message and exits 1", async () => {
    const dir = user.dagFolder("invalid", {
      "bad.yaml": "steps:\n  - name: a\n    command: echo a\n    depends: [nope]\n  - name: b\n    comand: echo\n",
    });
    const r = await user.run(["validate", path.join(dir, "bad.yaml")], { cwd: dir });
    expect(r.code).toBe(1);
    const file = path.join(dir, "bad.yaml");
    expect(lines(r.stdout)).toContain(`${file}:6: steps[1].comand: unknown key "comand"`);
    expect(lines(r.stdout)).toContain(`${file}:4: steps[0].depends: step "a" depends on unknown step "nope"`);
    expect(lines(r.stdout).at(-1)).toBe("1 of 1 DAG file has errors");
  });

  it("reports a file that is not YAML at its line", async () => {
    const dir = user.dagFolder("notyaml", { "broken.yaml": "steps: [\n  - a" });
    const r = await user.run(["validate", "broken.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(lines(r.stdout)[0]).toMatch(/^broken\.yaml:2: YAML syntax: /);
  });

  it("says in one line when a file does not exist", async () => {
    const r = await user.run(["validate", "missing.yaml"]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual(["error: missing.yaml: no such file or folder"]);
  });
});

describe("dagflare push", () => {
  it("creates, then reports unchanged, then changed, each DAG named after its file", async () => {
    const dir = user.dagFolder("push1", { "p-one.yaml": VALID, "p-two.yaml": VALID });
    const first = await user.run(["push", dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(lines(first.stdout)).toEqual([
      `created   p-one  (${path.join(dir, "p-one.yaml")})`,
      `created   p-two  (${path.join(dir, "p-two.yaml")})`,
      "2 created, 0 changed, 0 unchanged",
    ]);
    const again = await user.run(["push", dir]);
    expect(lines(again.stdout)).toEqual(["0 created, 0 changed, 2 unchanged"]);
    user.dagFolder("push1", { "p-two.yaml": VALID.replace("echo b", "echo bee") });
    const changed = await user.run(["push", dir]);
    expect(lines(changed.stdout)).toEqual([
      `changed   p-two  (${path.join(dir, "p-two.yaml")})`,
      "0 created, 1 changed, 1 unchanged",
    ]);
    expect((await stack.api("GET", "/dags/p-two/spec")).body.spec).toContain("echo bee");
  });

  it("--dry-run says what would change and changes nothing", async () => {
    const dir = user.dagFolder("push2", { "dry-one.yaml": VALID });
    const r = await user.run(["push", dir, "--dry-run"]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      "would be created   dry-one",
      "dry run, nothing changed: 1 created, 0 changed, 0 unchanged",
    ]);
    expect(await dagNames()).not.toContain("dry-one");
  });

  it("--prune deletes the DAGs that are no longer in the folder", async () => {
    const before = await dagNames();
    const dir = user.dagFolder("push3", { "kept.yaml": VALID });
    const r = await user.run(["push", dir, "--prune"]);
    expect(r.code, r.stderr).toBe(0);
    for (const name of before) expect(r.stdout).toContain(`deleted   ${name}`);
    expect(await dagNames()).toEqual(["kept"]);
  });

  it("pushes nothing when any file is invalid, naming the file and line", async () => {
    const dir = user.dagFolder("push4", {
      "good-one.yaml": VALID,
      "zbad.yaml": "steps:\n  - name: x\n    depends: [y]\n",
    });
    const r = await user.run(["push", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${path.join(dir, "zbad.yaml")}:3: steps[0].depends: step "x" depends on unknown step "y"`,
    );
    expect(lines(r.stderr).at(-1)).toBe("error: nothing was pushed: fix the errors above and push again");
    expect(await dagNames()).not.toContain("good-one");
  });

  it("refuses --prune with single files, which would delete every other DAG", async () => {
    const dir = user.dagFolder("push5", { "solo.yaml": VALID });
    const r = await user.run(["push", path.join(dir, "solo.yaml"), "--prune"]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      "error: --prune needs folders only: with single files it would delete every other DAG",
    ]);
  });
});

describe("dagflare dry", () => {
  it("prints the steps in layers of steps that may run at once, without running them", async () => {
    const dir = user.dagFolder("plan", {
      "plan.yaml":
        "type: graph\nsteps:\n  - name: fetch-a\n    command: echo a\n  - name: fetch-b\n    command: echo b\n  - name: join\n    command: echo j\n    depends: [fetch-a, fetch-b]\nhandlerOn:\n  exit:\n    command: echo bye\n",
    });
    const r = await user.run(["dry", path.join(dir, "plan.yaml"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.layers).toEqual([["fetch-a", "fetch-b"], ["join"]]);
    expect(plan.handlers.map((h: { on: string }) => h.on)).toEqual(["exit"]);
    const text = await user.run(["dry", path.join(dir, "plan.yaml")]);
    expect(lines(text.stdout).slice(0, 5)).toEqual([
      "plan: 3 steps in 2 layers (not run)",
      "layer 1:",
      "  fetch-a  $ echo a",
      "  fetch-b  $ echo b",
      "layer 2:",
    ]);
    expect((await stack.api("GET", "/dag-runs?name=plan")).body.dagRuns).toEqual([]);
  });
});

describe("bad input: one clear line and a non-zero exit code", () => {
  it("a DAG that does not exist", async () => {
    const r = await user.run(["start", "no-such-dag"]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual(["error: DAG no-such-dag not found"]);
  });

  it("a wrong token", async () => {
    const r = await user.run(["runs"], { env: { DAGFLARE_TOKEN: "wrong" } });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      "error: the server refused the request (invalid bearer token): run `dagflare login`, or set DAGFLARE_TOKEN to the API token",
    ]);
  });

  it("a server that is not dagflare", async () => {
    const r = await user.run(["runs", "--server", notDagflareUrl]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      `error: ${notDagflareUrl} does not look like a dagflare server (GET /api/v2/dag-runs?limit=20 answered HTTP 404, text/html): check --server, DAGFLARE_SERVER or \`dagflare login\``,
    ]);
  });

  it("a server that cannot be reached", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const r = await user.run(["status", "hello", "--server", closed]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      `error: cannot reach ${closed} (ECONNREFUSED): check --server, DAGFLARE_SERVER or \`dagflare login\``,
    ]);
  });

  it("no server at all", async () => {
    const r = await new CliUser().run(["runs"]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      "error: no server: run `dagflare login --server URL`, or pass --server URL or set DAGFLARE_SERVER (locally: http://127.0.0.1:8787)",
    ]);
  });

  it("a server that is not a URL, with exit code 2", async () => {
    const r = await user.run(["runs", "--server", "dagflare.example"]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      'error: server "dagflare.example" is not a URL (expected e.g. https://dagflare.example.workers.dev)',
    ]);
  });

  it("an unknown flag, with exit code 2 and a pointer to --help", async () => {
    const r = await user.run(["status", "hello", "--bogus"]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(["error: unknown option '--bogus'", "(add --help for usage)"]);
  });
});

describe("--help", () => {
  it("every command has help with examples", async () => {
    const commands = ["login", "logout", "validate", "push", "start", "status", "runs", "logs", "stop", "retry"];
    for (const cmd of [...commands, "approve", "reject", "dry"]) {
      const r = await user.run([cmd, "--help"]);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(/Examples:\n {2}\$ dagflare /);
    }
  });
});
