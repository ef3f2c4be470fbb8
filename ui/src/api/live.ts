// Live updates of one run, pushed by the run's Durable Object over a WebSocket
// (GET /api/v2/dag-runs/{name}/{id}/live, see docs/live.md). The first message holds the whole run;
// later ones carry only what changed. A log subscription rides on the same socket.
import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { API, seg } from "./client";
import { getToken } from "./token";
import type { RunDetails, RunNode } from "./types";

export type Connection = "connecting" | "live" | "reconnecting";

type ServerMessage =
  | { type: "details"; dagRunDetails: RunDetails }
  | { type: "patch"; run: Partial<RunDetails>; nodes: RunNode[] }
  | { type: "log"; stepName: string; stream: "stdout" | "stderr"; attempt: number; reset: boolean; content: string }
  | { type: "error"; code: string; message: string };

export interface LogSubscription {
  stepName: string;
  stream: "stdout" | "stderr";
  attempt?: number;
  tail?: number;
}

export interface LogChunk {
  attempt: number;
  reset: boolean;
  content: string;
}

export function livePath(name: string, runId: string, subRunId?: string): string {
  const base = `${API}/dag-runs/${seg(name)}/${seg(runId)}`;
  return `${subRunId ? `${base}/sub-dag-runs/${seg(subRunId)}` : base}/live`;
}

/** Applies a patch: run-level fields replaced, nodes merged by step name (new ones appended). */
export function applyPatch(prev: RunDetails, run: Partial<RunDetails>, nodes: RunNode[]): RunDetails {
  const next = { ...prev, ...run, nodes: prev.nodes };
  if (nodes.length > 0) {
    const index = new Map(prev.nodes.map((n, i) => [n.step.name, i]));
    const merged = [...prev.nodes];
    for (const n of nodes) {
      const i = index.get(n.step.name);
      if (i === undefined) merged.push(n);
      else merged[i] = n;
    }
    next.nodes = merged;
  }
  return next;
}

/** One socket to one run, reconnecting with backoff; its state is read through useRunLive. */
export class RunLive {
  details: RunDetails | null = null;
  connection: Connection = "connecting";
  error: string | null = null;
  private ws: WebSocket | null = null;
  private listeners = new Set<() => void>();
  private logListener: ((chunk: LogChunk) => void) | null = null;
  private logSub: LogSubscription | null = null;
  private retryMs = 500;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly path: string) {
    this.connect();
  }

  private connect(): void {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${this.path}`;
    const token = getToken();
    // Browsers cannot set headers on a WebSocket: the token travels as a subprotocol, never in the URL.
    const ws = new WebSocket(url, token ? ["dagflare.v1", `bearer.${token}`] : ["dagflare.v1"]);
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = 500;
      this.set({ connection: "live", error: null });
      if (this.logSub) ws.send(JSON.stringify({ type: "subscribe-log", ...this.logSub }));
    };
    ws.onmessage = (ev) => this.receive(JSON.parse(String(ev.data)) as ServerMessage);
    ws.onclose = () => {
      if (this.closed) return;
      this.set({ connection: "reconnecting" });
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  private receive(msg: ServerMessage): void {
    switch (msg.type) {
      case "details":
        this.set({ details: msg.dagRunDetails });
        break;
      case "patch":
        if (this.details) this.set({ details: applyPatch(this.details, msg.run, msg.nodes) });
        break;
      case "log":
        if (this.logSub && msg.stepName === this.logSub.stepName && msg.stream === this.logSub.stream) {
          this.logListener?.({ attempt: msg.attempt, reset: msg.reset, content: msg.content });
        }
        break;
      case "error":
        this.set({ error: msg.message });
        break;
    }
  }

  private set(patch: Partial<Pick<RunLive, "details" | "connection" | "error">>): void {
    Object.assign(this, patch);
    this.version++;
    for (const fn of this.listeners) fn();
  }

  /** Bumped on every change, for useSyncExternalStore. */
  version = 0;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  /** Follows one step's log; the first chunk (reset) holds the last lines, then text as it arrives. */
  followLog(sub: LogSubscription | null, onChunk: ((chunk: LogChunk) => void) | null): void {
    this.logSub = sub;
    this.logListener = onChunk;
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(sub ? { type: "subscribe-log", ...sub } : { type: "unsubscribe-log" }));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close(1000);
  }
}

/** The live state of a run: its details, merged from pushes, and the socket's state. */
export function useRunLive(name: string, runId: string, subRunId?: string) {
  const live = useMemo(() => new RunLive(livePath(name, runId, subRunId)), [name, runId, subRunId]);
  useEffect(() => () => live.close(), [live]);
  useSyncExternalStore(live.subscribe, () => live.version);
  return { live, details: live.details, connection: live.connection, error: live.error };
}

/** Most lines a live log keeps in memory; older lines are dropped from the view (and said so). */
export const LIVE_LOG_MAX_CHARS = 8 * 1024 * 1024;

/** A step's log, following new text as it arrives over the run's socket. */
export function useLiveLog(live: RunLive, sub: LogSubscription | null) {
  const [state, setState] = useState<{ text: string; attempt: number | null; trimmed: boolean }>({
    text: "",
    attempt: null,
    trimmed: false,
  });
  const key = sub ? `${sub.stepName}\u0000${sub.stream}\u0000${sub.attempt ?? ""}\u0000${sub.tail ?? ""}` : "";
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `sub`
  useEffect(() => {
    setState({ text: "", attempt: null, trimmed: false });
    if (!sub) {
      live.followLog(null, null);
      return;
    }
    live.followLog(sub, (chunk) =>
      setState((prev) => {
        let text = chunk.reset ? chunk.content : prev.text + chunk.content;
        let trimmed = chunk.reset ? false : prev.trimmed;
        if (text.length > LIVE_LOG_MAX_CHARS) {
          text = text.slice(text.indexOf("\n", text.length - LIVE_LOG_MAX_CHARS) + 1);
          trimmed = true;
        }
        return { text, attempt: chunk.attempt, trimmed };
      }),
    );
    return () => live.followLog(null, null);
  }, [live, key]);
  return state;
}
