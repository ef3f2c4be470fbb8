// A real SMTP server on 127.0.0.1 for tests (the smtp-server package): it records each
// session's commands as it saw them (AUTH, whether TLS was on) and each message it accepted.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface Received {
  from: string;
  to: string[];
  /** The message as the server stored it (dot-stuffing undone). */
  data: string;
  secure: boolean;
  user?: string;
}

export interface TestSmtp {
  port: number;
  received: Received[];
  /** Every AUTH attempt, with whether the connection was encrypted at the time. */
  auths: Array<{ method: string; username: string; password: string; secure: boolean }>;
  /** The next `n` messages are refused with 451 (a temporary failure). */
  refuseNext(n: number): void;
  /** Resolves with the first received message that `match` accepts. */
  waitFor(match: (m: Received) => boolean): Promise<Received>;
  stop(): Promise<void>;
}

/** A self-signed certificate for `localhost` and 127.0.0.1, made with openssl. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "dagflare-smtp-tls-"));
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1"].concat([
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]),
    { stdio: "ignore" },
  );
  return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
}

export async function startSmtp(
  opts: { starttls?: boolean; password?: string; tls?: { key: string; cert: string } } = {},
): Promise<TestSmtp> {
  const received: Received[] = [];
  const auths: TestSmtp["auths"] = [];
  const waiters: Array<{ match: (m: Received) => boolean; resolve: (m: Received) => void }> = [];
  let refusals = 0;
  const options: SMTPServerOptions = {
    hideSTARTTLS: !opts.starttls,
    ...(opts.tls ?? (opts.starttls ? selfSignedCert() : {})),
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: !opts.password,
    // The server's own rule refuses AUTH without TLS; the tests check the client's rule instead.
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, session, callback) {
      auths.push({
        method: auth.method,
        username: auth.username ?? "",
        password: auth.password ?? "",
        secure: session.secure,
      });
      if (auth.password === opts.password) callback(null, { user: auth.username });
      else callback(new Error("wrong credentials"));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (refusals > 0) {
          refusals--;
          const err = new Error("try again later") as Error & { responseCode: number };
          err.responseCode = 451;
          return callback(err);
        }
        const m: Received = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString("utf8"),
          secure: session.secure,
          ...(typeof session.user === "string" && { user: session.user }),
        };
        received.push(m);
        for (const w of waiters.filter((w) => w.match(m))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
        callback();
      });
    },
  };
  const server = new SMTPServer(options);
  const port = await new Promise<number>((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
  return {
    port,
    received,
    auths,
    refuseNext(n) {
      refusals = n;
    },
    waitFor(match) {
      const found = received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
