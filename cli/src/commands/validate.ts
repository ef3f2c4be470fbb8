// dagflare validate FILE...: the server's validation, `file:line: message`, exit 1 on any error.
import type { Context } from "../context.ts";
import { collectDagFiles } from "../dag-files.ts";
import { CliError, EXIT } from "../errors.ts";
import { printJson, say } from "../output.ts";
import { validateFiles } from "../validation.ts";

export async function validate(ctx: Context, paths: string[]): Promise<number> {
  const { files } = collectDagFiles(paths);
  const client = ctx.client();
  const results = await validateFiles(client, files, new Set(files.map((f) => f.name)));
  const bad = results.filter((r) => !r.valid);
  if (ctx.json) {
    printJson(results.map(({ response: _, ...r }) => r));
  } else {
    for (const r of results) for (const line of [...r.errors, ...r.warnings]) say(line);
    say(
      bad.length === 0
        ? `${files.length} DAG file${files.length === 1 ? "" : "s"} valid`
        : `${bad.length} of ${files.length} DAG file${files.length === 1 ? " has" : "s have"} errors`,
    );
  }
  return bad.length === 0 ? EXIT.ok : EXIT.failed;
}

/** Fails with every file's errors unless all are valid (push and dry check before anything). */
export function refuseInvalid(results: Awaited<ReturnType<typeof validateFiles>>, nothingDone: string): void {
  const errors = results.flatMap((r) => r.errors);
  if (errors.length === 0) return;
  for (const line of errors) process.stderr.write(`${line}\n`);
  throw new CliError(nothingDone);
}
