// The runner's HTTP calls (runner/src/http-post.ts under client.ts) against real local servers
// that misbehave: what an operator sees when the server hangs, is not there, cuts a reply short
// or presents a certificate nobody vouches for, and that connections are kept between calls.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RunnerClient, UnreachableError } from "../../runner/src/client.ts";

const report = { runnerId: "r1", totalSlots: 1 };
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(s: Server, scheme = "http"): Promise<string> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `${scheme}://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function client(server: string): RunnerClient {
  return new RunnerClient({ server, token: "t0k3n", log: () => {} });
}

/** The failure a call ends with (these calls are not retried). */
async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error("the call succeeded");
    },
    (err: Error) => err,
  );
}

describe("the runner's HTTP calls", () => {
  it("give up on a server that never answers once the call's timeout passes, as an outage", async () => {
    const url = await listen(createHttpServer(() => {}));
    const err = await failure(client(url).reportRunner(report, 200));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe("timed out");
  });

  it("name the system's error code when nothing listens at the server's address", async () => {
    const url = await listen(createHttpServer());
    const closed = servers.pop() as Server;
    await new Promise((r) => closed.close(r));
    const err = await failure(client(url).reportRunner(report, 5_000));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe("ECONNREFUSED");
  });

  it("count a reply cut short as an outage, not as an answer", async () => {
    const url = await listen(
      createHttpServer((req: IncomingMessage, res: ServerResponse) => {
        req.resume();
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"leases":');
        res.socket?.destroy();
      }),
    );
    const err = await failure(client(url).heartbeat("run.0.1", "tok", 5_000));
    expect(err).toBeInstanceOf(UnreachableError);
  });

  it("send the token as a bearer and keep one connection for calls that follow each other", async () => {
    const seen: { auth?: string; type?: string; socket: Socket }[] = [];
    const url = await listen(
      createHttpServer((req, res) => {
        req.resume();
        seen.push({ auth: req.headers.authorization, type: req.headers["content-type"], socket: req.socket });
        res.writeHead(204).end();
      }),
    );
    const c = client(url);
    await c.reportRunner(report, 5_000);
    await c.reportRunner(report, 5_000);
    expect(seen.map((s) => [s.auth, s.type])).toEqual([
      ["Bearer t0k3n", "application/json"],
      ["Bearer t0k3n", "application/json"],
    ]);
    expect(seen[1]?.socket).toBe(seen[0]?.socket);
  });

  it("refuse a server whose TLS certificate no authority vouches for", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "runner-tls-"));
    const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      { stdio: "ignore" },
    );
    let reached = false;
    const url = await listen(
      createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
        reached = true;
        res.writeHead(204).end();
      }),
      "https",
    );
    const err = await failure(client(url).reportRunner(report, 5_000));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(reached).toBe(false);
  });
});
