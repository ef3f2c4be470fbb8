// What every command gets from the global flags: how to reach the server, and the output form.
import { ApiClient } from "./client.ts";
import { resolveConnection } from "./config.ts";

export interface GlobalOptions {
  server?: string;
  json?: boolean;
}

export class Context {
  private api: ApiClient | undefined;

  constructor(readonly opts: GlobalOptions) {}

  get json(): boolean {
    return this.opts.json === true;
  }

  /** Resolved on first use, so commands that need no server (dry-run of nothing, help) never ask. */
  client(): ApiClient {
    this.api ??= new ApiClient(resolveConnection(this.opts.server));
    return this.api;
  }
}
