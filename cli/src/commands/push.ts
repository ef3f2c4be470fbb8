// dagflare push DIR|FILE...: create or update DAGs from YAML files. Every file is validated
// first and nothing changes unless all are valid; --prune deletes the server's DAGs that are no
// longer among the files; --dry-run says what would change and changes nothing.
import { enc } from "../api-types.ts";
import { ApiError } from "../client.ts";
import type { Context } from "../context.ts";
import { collectDagFiles, type DagFile } from "../dag-files.ts";
import { CliError, EXIT } from "../errors.ts";
import { printJson, say } from "../output.ts";
import { validateFiles } from "../validation.ts";
import { refuseInvalid } from "./validate.ts";

type Change = "created" | "changed" | "unchanged" | "deleted";

interface Action {
  name: string;
  file?: string;
  change: Change;
}

/** The listing's page size; the contract caps perPage at 1000. */
const PER_PAGE = 1000;

export async function push(ctx: Context, paths: string[], opts: { prune?: boolean; dryRun?: boolean }) {
  const { files, folders } = collectDagFiles(paths);
  if (opts.prune && folders.some((f) => !f)) {
    throw new CliError("--prune needs folders only: with single files it would delete every other DAG", EXIT.usage);
  }
  const client = ctx.client();
  const results = await validateFiles(client, files, new Set(files.map((f) => f.name)));
  refuseInvalid(results, `nothing was pushed: fix the errors above and push again`);
  for (const w of results.flatMap((r) => r.warnings)) process.stderr.write(`${w}\n`);

  const actions: Action[] = [];
  for (const f of files) actions.push({ name: f.name, file: f.file, change: await compare(ctx, f) });
  if (opts.prune) {
    const local = new Set(files.map((f) => f.name));
    for (const name of await storedDags(ctx)) if (!local.has(name)) actions.push({ name, change: "deleted" });
  }

  if (!opts.dryRun) {
    const byName = new Map(files.map((f) => [f.name, f]));
    for (const a of actions) {
      const f = byName.get(a.name);
      if (a.change === "created" && f) await client.post("/dags", { name: f.name, spec: f.spec });
      if (a.change === "changed" && f) await client.put(`/dags/${enc(f.name)}/spec`, { spec: f.spec });
      if (a.change === "deleted") await client.delete(`/dags/${enc(a.name)}`);
      if (!ctx.json && a.change !== "unchanged") say(`${a.change.padEnd(9)} ${a.name}${a.file ? `  (${a.file})` : ""}`);
    }
  } else if (!ctx.json) {
    for (const a of actions) if (a.change !== "unchanged") say(`would be ${a.change.padEnd(9)} ${a.name}`);
  }
  if (ctx.json) {
    printJson({ dryRun: opts.dryRun === true, actions });
  } else {
    const count = (c: Change) => actions.filter((a) => a.change === c).length;
    const parts = [`${count("created")} created`, `${count("changed")} changed`, `${count("unchanged")} unchanged`];
    if (opts.prune) parts.push(`${count("deleted")} deleted`);
    say(`${opts.dryRun ? "dry run, nothing changed: " : ""}${parts.join(", ")}`);
  }
  return EXIT.ok;
}

async function compare(ctx: Context, f: DagFile): Promise<Change> {
  try {
    const stored = await ctx.client().get<{ spec: string }>(`/dags/${enc(f.name)}/spec`);
    return stored.spec === f.spec ? "unchanged" : "changed";
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return "created";
    throw err;
  }
}

async function storedDags(ctx: Context): Promise<string[]> {
  const names: string[] = [];
  for (let page = 1; ; page++) {
    const res = await ctx
      .client()
      .get<{ dags: { fileName: string }[]; pagination: { totalPages: number } }>(
        `/dags?perPage=${PER_PAGE}&page=${page}`,
      );
    names.push(...res.dags.map((d) => d.fileName));
    if (page >= res.pagination.totalPages) return names;
  }
}
