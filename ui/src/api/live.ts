// Live updates of one run, pushed by the run's Durable Object over a WebSocket
// (GET /api/v2/dag-runs/{name}/{id}/live, see docs/live.md). The first message holds the whole run;
// later ones carry only what changed. A log subscription rides on the same socket.
// When the socket cannot be opened (a proxy that drops upgrades, a server without it), the same
// state is kept by polling the REST API with backoff, and the socket is tried again meanwhile.
import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { API, api, seg } from "./client";
import { getToken } from "./token";
import type { LogSlice, RunDetails, RunNode } from "./types";

/** live: pushed by the socket; polling: the socket is down, the REST API is asked; reconnecting: the socket dropped. */
export type Connection = "connecting" | "live" | "polling" | "reconnecting";

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
  /** Bytes the server dropped from the start of this log (known when polling). */
  droppedBytes?: number;
}

/** The REST path of a run (or of a sub-DAG run below it), without /api/v2. */
export function runPath(name: string, runId: string, subRunId?: string): string {
  const base = `/dag-runs/${seg(name)}/${seg(runId)}`;
  return subRunId ? `${base}/sub-dag-runs/${seg(subRunId)}` : base;
}

export function livePath(name: string, runId: string, subRunId?: string): string {
  return `${API}${runPath(name, runId, subRunId)}/live`;
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

const POLL_MIN_MS = 1_000;
const POLL_MAX_MS = 10_000;
const SOCKET_RETRY_MIN_MS = 500;
const SOCKET_RETRY_MAX_MS = 30_000;

/** One run, pushed over a socket or polled; its state is read through useRunLive. */
export class RunLive {
  details: RunDetails | null = null;
  connection: Connection = "connecting";
  /** The last error: a refused socket message, or the REST API's answer while polling. */
  error: unknown = null;
  /** Bumped on every change, for useSyncExternalStore. */
  version = 0;
  private ws: WebSocket | null = null;
  private wasLive = false;
  private listeners = new Set<() => void>();
  private logListener: ((chunk: LogChunk) => void) | null = null;
  private logSub: LogSubscription | null = null;
  private socketRetryMs = SOCKET_RETRY_MIN_MS;
  private pollMs = POLL_MIN_MS;
  private lastLog = "";
  private closed = false;
  private socketTimer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly restPath: string) {}

  /** Opens the socket; after close() it opens again (React runs effects twice in development). */
  start(): void {
    this.closed = false;
    this.wasLive = false;
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${API}${this.restPath}/live`;
    const token = getToken();
    // Browsers cannot set headers on a WebSocket: the token travels as a subprotocol, never in the URL.
    const ws = new WebSocket(url, token ? ["dagflare.v1", `bearer.${token}`] : ["dagflare.v1"]);
    this.ws = ws;
    ws.onopen = () => {
      this.socketRetryMs = SOCKET_RETRY_MIN_MS;
      this.wasLive = true;
      this.stopPolling();
      this.set({ connection: "live", error: null });
      if (this.logSub) ws.send(JSON.stringify({ type: "subscribe-log", ...this.logSub }));
    };
    ws.onmessage = (ev) => this.receive(JSON.parse(String(ev.data)) as ServerMessage);
    ws.onclose = () => {
      if (this.closed || this.ws !== ws) return;
      this.ws = null;
      // A socket that was live gets one quick retry before the page falls back to polling.
      if (this.wasLive) {
        this.wasLive = false;
        this.set({ connection: "reconnecting" });
      } else {
        this.set({ connection: "polling" });
        this.poll();
      }
      this.socketTimer = setTimeout(() => this.connect(), this.socketRetryMs);
      this.socketRetryMs = Math.min(this.socketRetryMs * 2, SOCKET_RETRY_MAX_MS);
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
        this.set({ error: new Error(msg.message) });
        break;
    }
  }

  /** One round of polling: the details, and the followed log's tail; then the next round, later. */
  private async poll(): Promise<void> {
    clearTimeout(this.pollTimer);
    if (this.stale()) return;
    let changed = false;
    try {
      const { dagRunDetails } = await api.get<{ dagRunDetails: RunDetails }>(this.restPath);
      if (this.stale()) return;
      changed = JSON.stringify(dagRunDetails) !== JSON.stringify(this.details);
      if (changed) this.set({ details: dagRunDetails, error: null });
      else if (this.error) this.set({ error: null });
      const sub = this.logSub;
      if (sub) {
        const slice = await api.get<LogSlice>(`${this.restPath}/steps/${seg(sub.stepName)}/log`, {
          tail: sub.tail ?? 1000,
          stream: sub.stream,
          attempt: sub.attempt,
        });
        if (this.logSub === sub && !this.stale()) {
          changed ||= slice.content !== this.lastLog;
          this.lastLog = slice.content;
          // Each poll brings the whole tail: it replaces what is shown.
          this.logListener?.({
            attempt: slice.attempt ?? sub.attempt ?? 1,
            reset: true,
            content: slice.content,
            droppedBytes: slice.droppedBytes,
          });
        }
      }
    } catch (err) {
      this.set({ error: err });
    }
    // Quick while the run changes, slower while it does not or the server refuses.
    this.pollMs = changed ? POLL_MIN_MS : Math.min(this.pollMs * 1.5, POLL_MAX_MS);
    this.pollTimer = setTimeout(() => this.poll(), this.pollMs);
  }

  /** The page closed, or the socket came back while a poll was under way. */
  private stale(): boolean {
    return this.closed || this.connection === "live";
  }

  private stopPolling(): void {
    clearTimeout(this.pollTimer);
    this.pollMs = POLL_MIN_MS;
  }

  /** After an action: while polling, ask again now rather than at the next round. */
  refresh(): void {
    if (this.connection === "polling") {
      this.pollMs = POLL_MIN_MS;
      void this.poll();
    }
  }

  private set(patch: Partial<Pick<RunLive, "details" | "connection" | "error">>): void {
    Object.assign(this, patch);
    this.version++;
    for (const fn of this.listeners) fn();
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  /** Follows one step's log; the first chunk (reset) holds the last lines, then text as it arrives. */
  followLog(sub: LogSubscription | null, onChunk: ((chunk: LogChunk) => void) | null): void {
    this.logSub = sub;
    this.logListener = onChunk;
    this.lastLog = "";
    if (this.connection === "polling") {
      this.refresh();
      return;
    }
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(sub ? { type: "subscribe-log", ...sub } : { type: "unsubscribe-log" }));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.socketTimer);
    clearTimeout(this.pollTimer);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
  }
}

/** The live state of a run: its details, merged from pushes (or polled), and the connection's state. */
export function useRunLive(name: string, runId: string, subRunId?: string) {
  const live = useMemo(() => new RunLive(runPath(name, runId, subRunId)), [name, runId, subRunId]);
  useEffect(() => {
    live.start();
    return () => live.close();
  }, [live]);
  useSyncExternalStore(live.subscribe, () => live.version);
  return { live, details: live.details, connection: live.connection, error: live.error };
}

/** Most text a live log keeps in memory; older lines are dropped from the view (and said so). */
export const LIVE_LOG_MAX_CHARS = 8 * 1024 * 1024;

export interface LiveLogState {
  text: string;
  attempt: number | null;
  /** Lines dropped in the browser to keep memory bounded. */
  trimmed: boolean;
  /** Bytes the server dropped from the start of the log. */
  droppedBytes: number;
  /** Whether the first chunk has arrived. */
  loaded: boolean;
}

const EMPTY_LOG: LiveLogState = { text: "", attempt: null, trimmed: false, droppedBytes: 0, loaded: false };

/** A step's log, following new text as it arrives over the run's socket (or polled). */
export function useLiveLog(live: RunLive, sub: LogSubscription | null): LiveLogState {
  const [state, setState] = useState<LiveLogState>(EMPTY_LOG);
  const key = sub ? `${sub.stepName}\u0000${sub.stream}\u0000${sub.attempt ?? ""}\u0000${sub.tail ?? ""}` : "";
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `sub`
  useEffect(() => {
    setState(EMPTY_LOG);
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
        const droppedBytes = chunk.droppedBytes ?? (chunk.reset ? 0 : prev.droppedBytes);
        return { text, attempt: chunk.attempt, trimmed, droppedBytes, loaded: true };
      }),
    );
    return () => live.followLog(null, null);
  }, [live, key]);
  return state;
}
