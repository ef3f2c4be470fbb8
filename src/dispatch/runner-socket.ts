// A runner's socket, held by its pool's DispatchObject with the hibernation API: an idle runner
// costs the object nothing between messages. The runner sends the calls it would send over HTTP
// (same paths, same bodies) and gets each answer as {id, status, body}; a lease request is held
// until the pool has work for it, and the leases are pushed as its answer the moment a run
// enqueues a step, with no poll and no other runner woken. Calls about a lease go to the run's
// RunObject exactly as over HTTP (lease-calls.ts), so leases, fencing and at-least-once
// delivery are the same. docs/runner-protocol.md describes the messages.
import { z } from "zod";
import type { Env } from "../env";
import { AppError } from "../errors";
import { MAX_RUNNER_BODY_BYTES } from "../limits";
import { parseBody } from "../parse-input";
import { parseLeaseId } from "../shared/lease-id";
import {
  type Lease,
  LeaseRequest,
  type LeaseResponse,
  type NextAsk,
  SOCKET_CLOSE_UNAUTHORIZED,
  type SocketCall,
  SocketClientMessage,
  type SocketReply,
} from "../shared/protocol";
import { timingMark } from "../timing";
import { completeMany } from "./completions";
import { LEASE_ACTIONS, type LeaseAction, leaseCall, runnerPool } from "./lease-calls";
import { type TaskQueue, takeAlong } from "./take-along";
import type { LeaseAsk } from "./task-queue";

/** Carries what the Worker checked (runner id, labels, token) from the route to the object. */
export const RUNNER_SOCKET_HEADER = "x-dagflare-runner-socket";

export const RunnerSocketQuery = z.object({
  runnerId: z.string().min(1).max(200),
  /** The runner's labels as a JSON object of strings. */
  labels: z
    .string()
    .max(4000)
    .default("{}")
    .transform((text, ctx) => {
      try {
        const parsed = z.record(z.string(), z.string()).safeParse(JSON.parse(text));
        if (parsed.success) return parsed.data;
      } catch {
        // Reported below, like any other malformed value.
      }
      ctx.addIssue({ code: "custom", message: "labels must be a JSON object of strings" });
      return z.NEVER;
    }),
});

/** Kept with the socket through hibernation (serializeAttachment). */
interface Attachment {
  runnerId: string;
  labels: Record<string, string>;
  tokenId: string;
  pools: string[] | "all";
  /** The lease request waiting for work: the call's id and the runner's free slots. */
  ask?: { id: number; max: number; askedAt: number };
}

/** What the socket needs of its DispatchObject. */
export interface SocketHost extends TaskQueue {
  /** Up to `max` leases from the tasks pending now (claimed from their runs), without waiting. */
  take(ask: LeaseAsk): Promise<Lease[]>;
  /** Whether the request began before its runner was marked lost (see DispatchObject.runnersLost). */
  isLeftover(ask: LeaseAsk): boolean;
}

const LEASE_PATH = /^\/leases\/([^/]{1,200})\/([a-z]+)$/;

export class RunnerSockets {
  /** Pump passes under way. */
  private passes = 0;
  /** A pass began while another was under way: it did not see the requests the other held. */
  private missed = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly host: SocketHost,
  ) {}

  /** Accepts a runner's socket (the route checked the upgrade, the token, the pool and the id). */
  connect(request: Request): Response {
    const info = JSON.parse(request.headers.get(RUNNER_SOCKET_HEADER) ?? "null") as Attachment | null;
    if (!info) return Response.json({ code: "bad_request", message: "not a runner socket" }, { status: 400 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [`token:${info.tokenId}`]);
    server.serializeAttachment({ ...info } satisfies Attachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  async message(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const size = typeof data === "string" ? data.length : data.byteLength;
    // Like the HTTP body limit; the runner sends the same call over HTTP and gets the 413 there.
    if (size > MAX_RUNNER_BODY_BYTES) return ws.close(1009, `a message is at most ${MAX_RUNNER_BODY_BYTES} bytes`);
    let msg: z.infer<typeof SocketClientMessage>;
    try {
      msg = SocketClientMessage.parse(JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data)));
    } catch {
      return ws.close(1007, "not a runner protocol message");
    }
    const att = ws.deserializeAttachment() as Attachment;
    if ("cancel" in msg) {
      if (att.ask?.id !== msg.cancel) return;
      ws.serializeAttachment({ ...att, ask: undefined } satisfies Attachment);
      send(ws, { id: msg.cancel, status: 200, body: { leases: [] } satisfies LeaseResponse });
      return;
    }
    const reply = await this.answer(ws, att, msg);
    if (reply) send(ws, reply);
  }

  /** Closes the sockets of a revoked token: their runners stop, as on a 401. */
  closeToken(tokenId: string): number {
    const sockets = this.ctx.getWebSockets(`token:${tokenId}`);
    for (const ws of sockets) ws.close(SOCKET_CLOSE_UNAUTHORIZED, `runner token ${tokenId} was revoked`);
    return sockets.length;
  }

  /** Runners connected by socket now, with how many free slots their waiting requests offer. */
  waiting(): Array<{ runnerId: string; max: number }> {
    return this.ctx.getWebSockets().flatMap((ws) => {
      const att = ws.deserializeAttachment() as Attachment | null;
      return att?.ask ? [{ runnerId: att.runnerId, max: att.ask.max }] : [];
    });
  }

  /**
   * Hands pending tasks to waiting sockets, oldest request first. Called when tasks arrive and
   * when a runner asks. Passes may overlap: a request is taken off its socket while its runs
   * claim (so no other pass serves it twice) and put back when nothing was taken for it. A pass
   * that began meanwhile did not see that request, so once the last pass ends another one runs:
   * without it, a task that arrived while the only waiting request was out (its claim of a stale
   * task under way) would wait until the next arrival, and a socket's request has no deadline.
   */
  async pump(): Promise<void> {
    if (this.passes > 0) this.missed = true;
    this.passes++;
    try {
      await this.pass();
    } finally {
      this.passes--;
      if (this.passes === 0 && this.missed) {
        this.missed = false;
        this.ctx.waitUntil(this.pump());
      }
    }
  }

  private async pass(): Promise<void> {
    const waiting = this.ctx
      .getWebSockets()
      .map((ws) => ({ ws, att: attachmentOf(ws) }))
      .filter((w): w is { ws: WebSocket; att: Attachment & { ask: NonNullable<Attachment["ask"]> } } =>
        Boolean(w.att?.ask),
      )
      .sort((a, b) => a.att.ask.askedAt - b.att.ask.askedAt);
    for (const { ws, att } of waiting) {
      const ask = { runnerId: att.runnerId, labels: att.labels, max: att.ask.max, askedAt: att.ask.askedAt };
      ws.serializeAttachment({ ...att, ask: undefined } satisfies Attachment);
      if (this.host.isLeftover(ask)) {
        // As over HTTP: the runner's request is answered empty, and it asks again at once.
        send(ws, { id: att.ask.id, status: 200, body: { leases: [] } satisfies LeaseResponse });
        continue;
      }
      let leases: Lease[] = [];
      try {
        leases = await this.host.take(ask);
      } finally {
        const now = attachmentOf(ws);
        // Nothing for it (or the take failed): the request waits on, unless the runner replaced it.
        if (leases.length === 0 && now && !now.ask)
          ws.serializeAttachment({ ...now, ask: att.ask } satisfies Attachment);
      }
      if (leases.length === 0) continue;
      for (const l of leases) timingMark(this.env, "taken", l.runId);
      if (!send(ws, { id: att.ask.id, status: 200, body: { leases } })) await this.giveBack(leases);
      for (const l of leases) timingMark(this.env, "pushed", l.runId);
    }
  }

  /** The reply to a call; none yet for a lease request, which is answered when work is taken. */
  private async answer(ws: WebSocket, att: Attachment, call: SocketCall): Promise<SocketReply | undefined> {
    try {
      if (call.path === "/lease") {
        const req = parseBody(LeaseRequest, call.body);
        if (req.runnerId !== att.runnerId) {
          throw new AppError("bad_request", 400, "runnerId differs from the one this socket was opened with", {
            fields: ["runnerId"],
          });
        }
        ws.serializeAttachment({
          ...att,
          ask: { id: call.id, max: req.max, askedAt: Date.now() },
        } satisfies Attachment);
        this.ctx.waitUntil(this.pump());
        return undefined;
      }
      const hooks = {
        checkPool: (labels: Record<string, string>) => runnerPool(labels, att),
        takeNext: (next: NextAsk) => this.host.take({ ...next, askedAt: Date.now() }),
        takeAlong: (runId: string, next: NextAsk) => takeAlong(this.host, runId, next),
      };
      if (this.env.DAGFLARE_TIMING === "on") markCompletions(this.env, call);
      if (call.path === "/completions") {
        return { id: call.id, status: 200, body: await completeMany(this.env, call.body, hooks) };
      }
      const m = LEASE_PATH.exec(call.path);
      const action = m?.[2] as LeaseAction | undefined;
      if (!m?.[1] || !action || !LEASE_ACTIONS.includes(action)) {
        throw new AppError("not_found", 404, `no runner call ${call.path} over the socket`);
      }
      const body = await leaseCall(this.env, action, decodeURIComponent(m[1]), call.body, hooks);
      return { id: call.id, status: 200, body };
    } catch (err) {
      if (err instanceof AppError) {
        const { code, message, details } = err;
        return { id: call.id, status: err.status, body: { code, message, ...(details && { details }) } };
      }
      console.error(`runner socket: ${call.path} failed`, err);
      return { id: call.id, status: 500, body: { code: "internal_error", message: "internal error" } };
    }
  }

  /** Leases that could not be pushed go back to their runs, dispatched again without an attempt. */
  private async giveBack(leases: Lease[]): Promise<void> {
    await Promise.allSettled(
      leases.map((l) =>
        leaseCall(this.env, "release", l.leaseId, { token: l.token, reason: "runner socket closed" }, noHooks),
      ),
    );
  }
}

const noHooks = {
  checkPool: () => {},
  takeNext: async () => [],
};

/** A socket's attachment; undefined once it is closed. */
function attachmentOf(ws: WebSocket): Attachment | undefined {
  try {
    return (ws.deserializeAttachment() as Attachment | null) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Sends a reply; false when the socket is no longer open. */
function send(ws: WebSocket, reply: SocketReply): boolean {
  try {
    ws.send(JSON.stringify(reply));
    return true;
  } catch {
    // Closed or closing: the caller decides what becomes of the reply.
    return false;
  }
}

/** A completion arriving on the socket, marked for its run (src/timing.ts). */
function markCompletions(env: Env, call: SocketCall): void {
  const body = call.body as { completions?: Array<{ leaseId?: unknown }> } | undefined;
  const m = LEASE_PATH.exec(call.path);
  const ids =
    m?.[2] === "complete" ? [decodeURIComponent(m[1] ?? "")] : (body?.completions ?? []).map((c) => c.leaseId);
  for (const id of ids) {
    const runId = typeof id === "string" ? parseLeaseId(id)?.runId : undefined;
    if (runId) timingMark(env, "complete", runId);
  }
}
