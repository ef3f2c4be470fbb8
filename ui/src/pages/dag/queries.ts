// The DAG page's data: one query per API resource, polled with backoff while the page is open.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, seg } from "../../api/client";
import type { DagDetailsResponse, DagRunsOfDag, RunSummary } from "../../api/types";
import { isActive } from "../../lib/status";

const FAST_MS = 2_000;
const SLOW_MS = 30_000;

/**
 * Every 2 s while a run is active; otherwise the wait doubles after each answer that changed
 * nothing, up to 30 s, and drops back to 2 s when something changes.
 */
function useBackoff<T>(active: (data: T) => boolean) {
  return useState(() => backoff(active))[0];
}

function backoff<T>(active: (data: T) => boolean) {
  let quiet = 0;
  let last: T | undefined;
  return (query: { state: { data: T | undefined } }) => {
    const data = query.state.data;
    if (data === undefined) return FAST_MS;
    // Structural sharing keeps the same object when an answer equals the last one.
    quiet = data === last ? quiet + 1 : 0;
    last = data;
    if (active(data)) return FAST_MS;
    return Math.min(SLOW_MS, FAST_MS * 2 ** quiet);
  };
}

export const dagKey = (fileName: string) => ["dag", fileName] as const;

export function useDag(fileName: string) {
  return useQuery({
    queryKey: dagKey(fileName),
    queryFn: () => api.get<DagDetailsResponse & { nextRun?: string }>(`/dags/${seg(fileName)}`),
    refetchInterval: useBackoff<DagDetailsResponse>((d) => isActive(d.latestDAGRun.statusLabel)),
  });
}

export function useDagRunsGrid(fileName: string) {
  return useQuery({
    queryKey: [...dagKey(fileName), "grid"],
    queryFn: () => api.get<DagRunsOfDag>(`/dags/${seg(fileName)}/dag-runs`),
    refetchInterval: useBackoff<DagRunsOfDag>((d) => d.dagRuns.some((r) => isActive(r.statusLabel))),
  });
}

/** A DAG's runs (GET /dag-runs/{name}: exact name, newest first, at most `limit`). */
export function useRunsOfDag(dagName: string, limit: number) {
  return useQuery({
    queryKey: [...dagKey(dagName), "runs", limit],
    queryFn: () => api.get<{ dagRuns: RunSummary[] }>(`/dag-runs/${seg(dagName)}`, { limit }),
    refetchInterval: useBackoff<{ dagRuns: RunSummary[] }>((d) => d.dagRuns.some((r) => isActive(r.statusLabel))),
  });
}

export function useSpec(fileName: string) {
  return useQuery({
    queryKey: [...dagKey(fileName), "spec"],
    queryFn: () => api.get<{ spec: string; errors: string[] }>(`/dags/${seg(fileName)}/spec`),
    // The spec changes only when someone saves it; the editor must not be reset under the user.
    refetchOnWindowFocus: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
}
