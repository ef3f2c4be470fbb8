// A chain's steps run ahead: when a step whose lease offers its successor (`successor`) exits 0,
// the runner starts the successor at once, in the slot it freed, while the step's completion is
// on its way; and when that successor exits 0 in turn, the offer nested in its offer, and so on
// down the chain the server offered. Until a reply confirms a step, everything it would tell the
// server (heartbeats, log batches) and every line the runner logs about it waits here. A reply
// that grants a lease of the offered id, attempt and spec confirms it: what waited goes out under
// that lease. Its completion need not wait: it leaves without a token right behind its
// predecessor's in one call, and the server's answer to it is its confirmation (its token) or
// its refusal. Any other reply discards it: the lease loop kills its group and nothing of it is
// ever reported. docs/runner-protocol.md#a-chains-steps-run-ahead. Its output waits in its
// log shipper, held; at its exit, still unconfirmed, its completion takes it along when the
// offer allows (docs/runner-protocol.md#a-steps-output-with-its-completion).
import type { ExecSpec, Lease, LeaseOffer, LogEntry, LogsInCompletion } from "../../src/shared/protocol.ts";
import { AbortedError, type Log, type RunnerClient } from "./client.ts";
import type { LogShipper } from "./log-shipper.ts";
import type { CompleteWithLogs, OfferedSend } from "./offered-send.ts";

/** The calls a step makes about its own lease. */
export type LeaseCalls = Pick<RunnerClient, "heartbeat" | "appendLogs" | "complete">;

type State = { kind: "held" } | { kind: "confirmed"; lease: Lease } | { kind: "discarded" };

export class HeldLease {
  /** The lease the successor runs under until confirmed: the offer's, with no token yet. */
  readonly lease: Lease;
  private state: State = { kind: "held" };
  private readonly spec: string;
  private waiting: Array<{ resolve: (lease: Lease) => void; reject: (err: Error) => void }> = [];
  private lines: Array<{ log: Log; line: string }> = [];
  private confirmedHooks: Array<() => void> = [];
  /** The lease of the step before it, whose completion its own may follow in one call. */
  private readonly after: string;
  /** Its completion left without a token; that call's answer confirms or refuses it. */
  private offeredSent = false;
  /** Aborts its completion while it waits for a token, once it is discarded. */
  private readonly discarded = new AbortController();
  /** What its completion may bring of its log; undefined from a server that takes none. */
  private readonly logBound: LogsInCompletion | undefined;
  /** Its output, taken from its shipper at its exit: sent with its completion, and only so. */
  private logs: LogEntry[] = [];

  /**
   * `from`: the lease of the step that exited 0, whose offer this is; `depth`: how many steps
   * ahead of the last leased one it runs (1: the successor of a leased step).
   */
  constructor(
    from: Lease,
    offer: LeaseOffer,
    readonly depth = 1,
  ) {
    this.after = from.leaseId;
    this.spec = canonicalJson(offer.exec);
    this.logBound = offer.logsInCompletion;
    this.lease = {
      leaseId: offer.leaseId,
      token: "",
      runId: from.runId,
      dagName: from.dagName,
      stepName: offer.stepName,
      attempt: offer.attempt,
      ttlMs: from.ttlMs,
      heartbeatIntervalMs: from.heartbeatIntervalMs,
      // Its own copy: the step resolves its dir and env in place, the offer stays as it came.
      exec: structuredClone(offer.exec) as ExecSpec,
    };
    // The chain offered further: its own exit 0 starts the next one, confirmed or not.
    if (offer.successor) this.lease.successor = offer.successor;
  }

  /** Why `lease` is not the offered one, or undefined when it is (same id, step, attempt, spec). */
  differs(lease: Lease): string | undefined {
    const o = this.lease;
    if (lease.leaseId !== o.leaseId || lease.runId !== o.runId || lease.stepName !== o.stepName)
      return "another dispatch";
    if (lease.attempt !== o.attempt) return `attempt ${lease.attempt}, not ${o.attempt}`;
    if (canonicalJson(lease.exec) !== this.spec) return "another exec spec";
    return undefined;
  }

  /** The lease of `leases` that confirms this one, or why none does. */
  match(leases: Lease[]): { real: Lease } | { why: string } {
    const real = leases.find((l) => l.leaseId === this.lease.leaseId);
    const why = real ? this.differs(real) : "the reply granted no lease for it";
    return real && why === undefined ? { real } : { why: why ?? "" };
  }

  /** The server granted the offered lease: what waited goes out under it. */
  confirm(real: Lease): void {
    if (this.state.kind !== "held") return;
    this.state = { kind: "confirmed", lease: real };
    // The step goes on under the real lease, and uses the successor that lease offers in turn.
    Object.assign(this.lease, { token: real.token, ttlMs: real.ttlMs, heartbeatIntervalMs: real.heartbeatIntervalMs });
    if (real.successor) this.lease.successor = real.successor;
    for (const { log, line } of this.lines.splice(0)) log(line);
    for (const w of this.waiting.splice(0)) w.resolve(real);
    for (const hook of this.confirmedHooks.splice(0)) hook();
  }

  /** Runs `hook` once the lease is confirmed (now, if it is); never if it is discarded. */
  onConfirmed(hook: () => void): void {
    if (this.state.kind === "confirmed") hook();
    else if (this.state.kind === "held") this.confirmedHooks.push(hook);
  }

  /** The step's shipper sends nothing until the lease is confirmed (never, if it is discarded). */
  holdLogs(shipper: LogShipper): void {
    if (this.state.kind !== "held") return;
    shipper.hold(true);
    this.onConfirmed(() => shipper.hold(false));
  }

  /**
   * At the step's exit: still unconfirmed, its completion takes what its shipper holds, within
   * the offer's bound. Otherwise (confirmed, an older server, too much output) the shipper keeps
   * it, and ships it under the lease before the completion leaves, as for any step.
   */
  takeLogs(shipper: LogShipper): void {
    if (this.state.kind !== "held" || !this.logBound) return;
    this.logs = shipper.takeHeld(this.logBound) ?? [];
  }

  /** No such lease came: nothing that waited is ever sent. */
  discard(): void {
    if (this.state.kind !== "held") return;
    this.state = { kind: "discarded" };
    this.lines = [];
    this.logs = [];
    this.confirmedHooks = [];
    this.discarded.abort();
    for (const w of this.waiting.splice(0)) w.reject(new AbortedError(`${this.lease.leaseId}: not confirmed`));
  }

  get confirmed(): boolean {
    return this.state.kind === "confirmed";
  }

  /** Its completion went without a token: its answer, not its predecessor's reply, decides. */
  get sentOffered(): boolean {
    return this.offeredSent;
  }

  /** The step's calls, each sent once the lease is confirmed, with its token. */
  calls(inner: LeaseCalls): LeaseCalls {
    return {
      heartbeat: async (leaseId, _token, timeoutMs) => inner.heartbeat(leaseId, (await this.real()).token, timeoutMs),
      appendLogs: async (leaseId, _token, entries) => inner.appendLogs(leaseId, (await this.real()).token, entries),
      complete: async (leaseId, bare, signal, prefer) => {
        // Its output goes with it, whichever way it leaves (confirmed meanwhile: with its token).
        const req = this.logs.length > 0 ? { ...bare, logs: this.logs } : bare;
        if (this.state.kind === "held") return this.completeOffered(inner, leaseId, req, signal, prefer);
        const real = await this.real();
        return inner.complete(leaseId, { ...req, token: real.token }, signal, prefer ?? real.successor?.leaseId);
      },
    };
  }

  /**
   * The completion of a step not confirmed yet: queued to leave right behind its predecessor's,
   * without a token, or with one once a reply grants its lease. Taken, it confirms the lease.
   */
  private async completeOffered(
    inner: LeaseCalls,
    leaseId: string,
    req: CompleteWithLogs,
    signal: AbortSignal | undefined,
    prefer: string | undefined,
  ) {
    const offered: OfferedSend = {
      attempt: this.lease.attempt,
      after: this.after,
      token: () => (this.state.kind === "confirmed" ? this.state.lease.token : undefined),
      onToken: (hook) => this.onConfirmed(hook),
      sent: () => {
        this.offeredSent = true;
      },
    };
    const stop = signal ? AbortSignal.any([signal, this.discarded.signal]) : this.discarded.signal;
    const res = await inner.complete(leaseId, req, stop, prefer ?? this.lease.successor?.leaseId, offered);
    if (res.token !== undefined) this.confirm({ ...this.lease, token: res.token });
    return res;
  }

  /** Lines about the step: logged once it is confirmed, dropped if it is discarded. */
  log(inner: Log): Log {
    return (line) => {
      if (this.state.kind === "confirmed") inner(line);
      else if (this.state.kind === "held") this.lines.push({ log: inner, line });
    };
  }

  private real(): Promise<Lease> {
    const s = this.state;
    if (s.kind === "confirmed") return Promise.resolve(s.lease);
    if (s.kind === "discarded") return Promise.reject(new AbortedError(`${this.lease.leaseId}: not confirmed`));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

/** JSON with every object's keys sorted: two specs are equal when their texts are. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
