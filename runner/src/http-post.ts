// The runner's HTTP calls, on Node's `node:http` and `node:https` rather than `fetch`. `fetch`
// (like Node's own `WebSocket`) is undici, which an idle runner keeps at about 12 MiB on Node 22;
// these two modules cost about 2 MiB, and the socket's `ws` loads them anyway (BENCHMARKS.md
// "Runner idle memory (2026-12-01, without undici)"). Connections are kept alive by Node's
// global agents (its default since Node 19), which also follow `NODE_USE_ENV_PROXY=1`
// (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`) on the Node versions that have it, as `fetch` did.
// TLS is Node's: its CA store, plus `NODE_EXTRA_CA_CERTS`.
import type * as Http from "node:http";
import type * as Https from "node:https";
import { createRequire } from "node:module";

// `require`, not `import`: an ES import of node:http reads every export to build its namespace,
// among them the lazy `WebSocket` getter that Node 22 added there, and with it loads undici.
const load = createRequire(import.meta.url);
const http = load("node:http") as typeof Http;
const https = load("node:https") as typeof Https;

export interface HttpReply {
  status: number;
  /** The body, decoded as UTF-8. */
  text: string;
}

/**
 * Node's global agent for `url`: connections kept alive, and through the proxy its environment
 * names when Node is told to use one. The socket's upgrade request goes through it too.
 */
export function agentFor(url: string): Http.Agent {
  return url.startsWith("https:") || url.startsWith("wss:") ? https.globalAgent : http.globalAgent;
}

/** POSTs `json` to `url`. Rejects on a network error, on a reply cut short, and when `signal` aborts. */
export function postJson(
  url: string,
  headers: Record<string, string>,
  json: string,
  signal: AbortSignal,
): Promise<HttpReply> {
  const client = url.startsWith("https:") ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(json) },
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        // Aborted, or the connection dropped, in the middle of the body ("end" never comes).
        res.on("close", () => {
          if (!res.complete) reject(signal.aborted ? signal.reason : new Error("the reply was cut short"));
        });
      },
    );
    req.on("error", reject);
    req.end(json);
  });
}
