// Live push for one run, inside its RunObject: WebSockets accepted with the hibernation API, so
// an idle watcher costs nothing (the object sleeps; the socket stays open at the edge). Each
// socket's state lives in its attachment; nothing here runs on the run's path when no socket is
// connected. The RunObject calls `changed` after every state change and `logsAppended` after
// every stored log batch; docs/live.md describes the messages.
import type { Env } from "../env";
import type { ErrorCode } from "../errors";
import { detailHints, presentWithHints } from "../routes/run-details";
import type { RunSnapshot } from "../run/object/rpc";
import { logSince, logTail } from "./log-read";
import { type DetailHints, patchOf } from "./patch";
import { ClientMessage, LIVE_PROTOCOL, type LogMessage, offeredProtocols, type SubscribeLog } from "./protocol";

/** At most one patch per this many milliseconds; changes in between are coalesced. */
export const PATCH_INTERVAL_MS = 100;

/** One log subscription; `attempt` and `dispatchSeq` name the attempt being sent. */
interface LogSub {
  stepName: string;
  stream: "stdout" | "stderr";
  follow: boolean;
  tail: number;
  attempt: number;
  dispatchSeq: number;
  /** The last log seq sent; only seqs up to the attempt's contiguous (acked) seq are sent. */
  sentSeq: number;
}

/** Kept with the socket through hibernation (serializeAttachment). */
interface Attachment {
  /** The DAG name the run is listed under (a renamed DAG's runs show its new name). */
  dagName: string;
  sub?: LogSub;
}

export class LiveRun {
  /** Steps changed since the last patch, by state key. */
  private dirty = new Set<string>();
  private changedSinceFlush = false;
  private timer?: ReturnType<typeof setTimeout>;
  private lastFlushAt = 0;
  /** Sockets accepted whose details are not sent yet: patches skip them (details will be newer). */
  private opening = new WeakSet<WebSocket>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly sql: SqlStorage,
    private readonly snapshot: () => RunSnapshot | undefined,
  ) {}

  /** Accepts a live socket (the route checked the upgrade, the token and the run). */
  async connect(request: Request): Promise<Response> {
    const first = this.snapshot();
    if (!first) return Response.json({ code: "not_found", message: "run not found" }, { status: 404 });
    const dagName = new URL(request.url).searchParams.get("dagName") || first.dag.name;
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ dagName } satisfies Attachment);
    this.opening.add(server);
    try {
      const hints = await detailHints(this.env, first);
      // The state as it is now: a change during the await is in these details, a later one in a patch.
      const snap = this.snapshot() ?? first;
      send(server, { type: "details", dagRunDetails: presentWithHints(named(snap, dagName), hints) });
    } finally {
      this.opening.delete(server);
    }
    const headers = offeredProtocols(request).includes(LIVE_PROTOCOL)
      ? { "sec-websocket-protocol": LIVE_PROTOCOL }
      : undefined;
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /** After a state change: the steps it wrote (the engine says which). */
  changed(steps: Iterable<string>): void {
    if (!this.ctx.getWebSockets().length) return;
    for (const name of steps) this.dirty.add(name);
    this.changedSinceFlush = true;
    this.schedule();
  }

  /** After a log batch of a step was stored. */
  logsAppended(stepName: string): void {
    for (const ws of this.ctx.getWebSockets()) {
      if (attachmentOf(ws).sub?.stepName === stepName && !this.opening.has(ws)) this.syncLog(ws);
    }
  }

  /** A client message: subscribe to a step's log, or unsubscribe. */
  message(ws: WebSocket, data: string | ArrayBuffer): void {
    let raw: unknown;
    try {
      raw = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch {
      // Not JSON: said to the client, nothing else changes.
      sendError(ws, "bad_request", "a message must be a JSON object");
      return;
    }
    const parsed = ClientMessage.safeParse(raw);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => `${i.path.join(".") || "message"}: ${i.message}`).join("; ");
      sendError(ws, "bad_request", where);
      return;
    }
    const att = attachmentOf(ws);
    if (parsed.data.type === "unsubscribe-log") {
      ws.serializeAttachment({ dagName: att.dagName } satisfies Attachment);
      return;
    }
    this.subscribe(ws, att, parsed.data);
  }

  private subscribe(ws: WebSocket, att: Attachment, m: SubscribeLog): void {
    const s = this.snapshot()?.state.steps[m.stepName];
    if (!s) {
      sendError(ws, "not_found", `step "${m.stepName}" not found in this run`, "stepName");
      return;
    }
    if (m.attempt !== undefined && m.attempt > s.attempt) {
      const latest = s.attempt ? `its latest is ${s.attempt}` : "it has not started";
      sendError(ws, "not_found", `step "${m.stepName}" has no attempt ${m.attempt}: ${latest}`, "attempt");
      return;
    }
    const sub: LogSub = {
      stepName: m.stepName,
      stream: m.stream,
      follow: m.attempt === undefined,
      tail: m.tail,
      attempt: m.attempt ?? s.attempt,
      dispatchSeq: s.dispatchSeq,
      sentSeq: 0,
    };
    this.reset(ws, att, sub);
  }

  /** Sends the subscription's tail (`reset: true`) and remembers what it covered. */
  private reset(ws: WebSocket, att: Attachment, sub: LogSub): void {
    const { text, seq } = logTail(this.sql, sub, sub.tail);
    const next = { ...sub, sentSeq: seq };
    ws.serializeAttachment({ ...att, sub: next } satisfies Attachment);
    send(ws, logMessage(next, true, text));
  }

  /**
   * Brings one socket's log up to date: a new attempt (or a new lease of the same attempt number,
   * whose log starts over) is a reset, else the text stored since the last message is appended.
   */
  private syncLog(ws: WebSocket): void {
    const att = attachmentOf(ws);
    const sub = att.sub;
    const s = sub && this.snapshot()?.state.steps[sub.stepName];
    // A step waiting for its next lease has no new log yet: its lease (a claim, a new attempt
    // number or the same one again) brings the reset.
    if (!sub || !s || s.phase.kind === "queued") return;
    const current = s.attempt === sub.attempt;
    if ((sub.follow && !current) || (current && s.dispatchSeq !== sub.dispatchSeq)) {
      this.reset(ws, att, { ...sub, attempt: s.attempt, dispatchSeq: s.dispatchSeq });
      return;
    }
    const { text, seq } = logSince(this.sql, sub, sub.sentSeq);
    if (seq === sub.sentSeq) return;
    ws.serializeAttachment({ ...att, sub: { ...sub, sentSeq: seq } } satisfies Attachment);
    if (text) send(ws, logMessage(sub, false, text));
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastFlushAt + PATCH_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.flush().catch((err: unknown) => console.error("live: a patch could not be sent", err));
    }, wait);
  }

  /** Sends one patch with what changed since the last, and moves followed logs to new attempts. */
  private async flush(): Promise<void> {
    this.timer = undefined;
    this.lastFlushAt = Date.now();
    const first = this.snapshot();
    if (!first || !this.changedSinceFlush) return;
    // The steps this patch shows, taken before the await: the hints are read for them, and a
    // step changed during the await is in the next patch (its change schedules one).
    const changed = this.dirty;
    this.dirty = new Set();
    this.changedSinceFlush = false;
    let hints: DetailHints;
    try {
      hints = await detailHints(this.env, first, changed);
    } catch (err) {
      // Not sent: the next flush sends them.
      for (const name of changed) this.dirty.add(name);
      this.changedSinceFlush = true;
      throw err;
    }
    // Taken after the await, with the newest state of those steps.
    const snap = this.snapshot() ?? first;
    const byName = new Map<string, string>();
    for (const ws of this.ctx.getWebSockets()) {
      if (this.opening.has(ws)) continue;
      const { dagName } = attachmentOf(ws);
      let frame = byName.get(dagName);
      if (frame === undefined) {
        frame = JSON.stringify(patchOf(named(snap, dagName), hints, changed));
        byName.set(dagName, frame);
      }
      sendText(ws, frame);
      if (attachmentOf(ws).sub) this.syncLog(ws);
    }
  }
}

function named(snap: RunSnapshot, dagName: string): RunSnapshot {
  return snap.dag.name === dagName ? snap : { ...snap, dag: { ...snap.dag, name: dagName } };
}

function attachmentOf(ws: WebSocket): Attachment {
  return ws.deserializeAttachment() as Attachment;
}

function logMessage(sub: LogSub, reset: boolean, content: string): LogMessage {
  return { type: "log", stepName: sub.stepName, stream: sub.stream, attempt: sub.attempt, reset, content };
}

function sendError(ws: WebSocket, code: ErrorCode, message: string, field?: string): void {
  send(ws, { type: "error", code, message, ...(field && { details: { field } }) });
}

function send(ws: WebSocket, message: unknown): void {
  sendText(ws, JSON.stringify(message));
}

function sendText(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch (err) {
    // A socket closing as we send: its client is gone, the others still get theirs.
    console.error("live: send to a closing socket failed", err);
  }
}
