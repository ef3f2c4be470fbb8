// The public API (/api/v2) with the user's bearer token. Every failure becomes one line that
// says what went wrong and what to do next: an unreachable server, a server that is not
// dagflare, a refused token, or the contract's error body `{code, message}`.
import type { Connection } from "./config.ts";
import { CliError } from "./errors.ts";

const REQUEST_TIMEOUT_MS = 30_000;

/** An error body of the contract, with the HTTP status it came with. */
export class ApiError extends CliError {
  override name = "ApiError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export class ApiClient {
  constructor(readonly conn: Connection) {}

  get server(): string {
    return this.conn.server;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }

  delete(path: string): Promise<unknown> {
    return this.request("DELETE", path);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.conn.server}/api/v2${path}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.conn.token) headers.authorization = `Bearer ${this.conn.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new CliError(`cannot reach ${this.conn.server} (${networkReason(err)}): ${NEXT_SERVER}`);
    }
    const text = await res.text();
    let data: unknown;
    try {
      data = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw this.notDagflare(method, path, res);
    }
    if (res.ok) return data as T;
    const error = data as { code?: unknown; message?: unknown } | undefined;
    if (typeof error?.code !== "string" || typeof error.message !== "string") throw this.notDagflare(method, path, res);
    throw new ApiError(explain(res.status, error.code, error.message), res.status, error.code);
  }

  private notDagflare(method: string, path: string, res: Response): CliError {
    const type = res.headers.get("content-type")?.split(";")[0] ?? "no content type";
    return new CliError(
      `${this.conn.server} does not look like a dagflare server (${method} /api/v2${path} answered HTTP ${res.status}, ${type}): ${NEXT_SERVER}`,
    );
  }
}

const NEXT_SERVER = "check --server, DAGFLARE_SERVER or `dagflare login`";

function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return `no answer in ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** The server's message, with the next step for the errors a user fixes on their side. */
function explain(status: number, code: string, message: string): string {
  if (status === 401) {
    return `the server refused the request (${message}): run \`dagflare login\`, or set DAGFLARE_TOKEN to the API token`;
  }
  if (status === 403) return `the server refused the token (${message}): use the user API token, not a runner token`;
  return code === "bad_request" || code === "not_found" || code === "already_exists" || code === "not_running"
    ? message
    : `${message} (HTTP ${status} ${code})`;
}
