// dagflare dry FILE: the plan of a DAG file, checked by the server and not run: which steps run
// in which order, in layers of steps that may run at once, and the handlers after them.
import type { Context } from "../context.ts";
import { collectDagFiles } from "../dag-files.ts";
import { CliError, EXIT } from "../errors.ts";
import { printJson, say } from "../output.ts";
import { layers } from "../plan.ts";
import { validateFiles } from "../validation.ts";
import { refuseInvalid } from "./validate.ts";

export async function dry(ctx: Context, file: string): Promise<number> {
  const { files, folders } = collectDagFiles([file]);
  if (folders[0]) throw new CliError(`${file} is a folder: dagflare dry takes one DAG file`, EXIT.usage);
  const [result] = await validateFiles(ctx.client(), files);
  refuseInvalid(result ? [result] : [], `${file} is not a valid DAG: nothing to plan`);
  const dag = result?.response?.dag;
  if (!dag) throw new CliError(`the server did not return the plan of ${file}`);
  const plan = layers(dag.steps);
  const handlers = Object.entries(dag.handlerOn ?? {}).map(([on, s]) => ({ on, step: s.name }));
  if (ctx.json) {
    printJson({ name: dag.name, layers: plan, handlers });
    return EXIT.ok;
  }
  const byName = new Map(dag.steps.map((s) => [s.name, s]));
  say(
    `${dag.name}: ${dag.steps.length} step${dag.steps.length === 1 ? "" : "s"} in ${plan.length} layer${plan.length === 1 ? "" : "s"} (not run)`,
  );
  plan.forEach((names, i) => {
    say(`layer ${i + 1}:`);
    for (const name of names) {
      const s = byName.get(name);
      const after = s?.depends?.length ? `  after ${s.depends.join(", ")}` : "";
      const what = s?.call ? `calls ${s.call}` : s?.command ? `$ ${s.command}` : s?.script ? "script" : "";
      const fan = s?.parallel ? "  (parallel: one per item)" : "";
      say(`  ${name}${after}${fan}${what ? `  ${what}` : ""}`);
    }
  });
  for (const h of handlers) say(`then, on ${h.on}: ${h.step}`);
  for (const w of result?.warnings ?? []) say(w);
  return EXIT.ok;
}
