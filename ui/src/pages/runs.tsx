// Every run across DAGs, newest first: filters and page in the URL, paginated by the server.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useCallback } from "react";
import { api } from "../api/client";
import type { Pagination, RunSummary } from "../api/types";
import { ErrorBox } from "../components/error-box";
import { type Column, ListTable } from "../components/list-table";
import { Pager } from "../components/pager";
import { dagColumn, runIdColumn, runLink, runTimeColumns, statusColumn } from "../components/run-cells";
import { backoff } from "../lib/poll";
import { RUN_STATUS_CODES, RUN_STATUS_LABELS, statusText } from "../lib/status";
import type { RunsSearch } from "../router";
import { FilterInput } from "./filter-input";
import "./lists.css";

const COLUMNS: Array<Column<RunSummary>> = [
  dagColumn,
  runIdColumn,
  statusColumn,
  ...runTimeColumns,
  { head: "Params", className: "mono name", cell: (r) => r.params },
];

/** The API serves at most 500 runs a page. */
const PER_PAGE_CHOICES = [25, 50, 100, 500] as const;

/** A YYYY-MM-DD date at the start (or end) of that day in the user's time zone, as Unix seconds. */
export function daySeconds(day: string | undefined, end: boolean): number | undefined {
  if (!day) return undefined;
  const d = new Date(`${day}T${end ? "23:59:59" : "00:00:00"}`);
  return Number.isNaN(d.getTime()) ? undefined : Math.floor(d.getTime() / 1000);
}

export function RunsPage() {
  const search = useSearch({ from: "/runs" });
  const navigate = useNavigate({ from: "/runs" });
  const setSearch = useCallback(
    (patch: Partial<RunsSearch>) =>
      navigate({ search: (s: RunsSearch) => ({ ...s, page: undefined, ...patch }), replace: true }),
    [navigate],
  );
  const perPage = Math.min(search.perPage ?? 100, 500);
  const runs = useQuery({
    queryKey: ["dag-runs", search],
    queryFn: () =>
      api.get<{ dagRuns: RunSummary[]; pagination?: Pagination }>("/dag-runs", {
        status: search.status,
        name: search.name,
        fromDate: daySeconds(search.from, false),
        toDate: daySeconds(search.to, true),
        page: search.page,
        perPage,
      }),
    placeholderData: keepPreviousData,
    refetchInterval: backoff(),
  });
  const onName = useCallback((name: string | undefined) => setSearch({ name }), [setSearch]);
  return (
    <>
      <div className="page-head">
        <h1>Runs</h1>
      </div>
      <search className="toolbar" aria-label="filter runs">
        <FilterInput label="DAG name" value={search.name} onChange={onName} />
        <label>
          Status
          <select
            value={search.status ?? ""}
            onChange={(e) => setSearch({ status: e.target.value === "" ? undefined : Number(e.target.value) })}
          >
            <option value="">any</option>
            {RUN_STATUS_LABELS.map((s) => (
              <option key={s} value={RUN_STATUS_CODES[s]}>
                {statusText(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input
            type="date"
            value={search.from ?? ""}
            onChange={(e) => setSearch({ from: e.target.value || undefined })}
          />
        </label>
        <label>
          To
          <input type="date" value={search.to ?? ""} onChange={(e) => setSearch({ to: e.target.value || undefined })} />
        </label>
        <label>
          Per page
          <select value={perPage} onChange={(e) => setSearch({ perPage: Number(e.target.value) })}>
            {PER_PAGE_CHOICES.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
      </search>
      <ErrorBox error={runs.error} />
      {runs.data && (
        <>
          <ListTable
            label="runs"
            columns={COLUMNS}
            rows={runs.data.dagRuns}
            rowKey={(r) => r.dagRunId}
            rowLink={runLink}
            empty="No run matches."
          />
          <Pager
            pagination={runs.data.pagination}
            onPage={(page) => navigate({ search: (s: RunsSearch) => ({ ...s, page }) })}
          />
        </>
      )}
      {runs.isPending && <p className="muted">Loading…</p>}
    </>
  );
}
