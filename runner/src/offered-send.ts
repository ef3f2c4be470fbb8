// The completion of a chain's step the runner ran ahead under an offer (early-start.ts), as the
// completion batcher takes it: without a token, it may only leave right behind its predecessor's
// completion in one call (docs/runner-protocol.md#a-chains-steps-run-ahead).
import type { CompleteRequest, CompleteResponse, LogEntry } from "../../src/shared/protocol.ts";

/**
 * A completion as the runner hands it over: the request, and the log entries that go with it
 * (a step run ahead, whose held output its completion took: never shipped any other way).
 */
export type CompleteWithLogs = CompleteRequest & { logs?: LogEntry[] };

/** The completion of a step run under an offer, whose lease has not been granted yet. */
export interface OfferedSend {
  attempt: number;
  /** The lease whose completion must go before it in the same call. */
  after: string;
  /** Its lease's token once a reply granted it: it then goes as any completion. */
  token(): string | undefined;
  /** Runs `hook` once its lease is granted (a token to send it with). */
  onToken(hook: () => void): void;
  /** It left in a call without a token: that call's answer to it decides. */
  sent(): void;
}

/** A completion's answer; an offered one taken carries the token of the lease it was granted. */
export type CompletionAnswer = CompleteResponse & { token?: string };
