// The server's validation of DAG files (POST /dags/validate), its issues written the way
// compilers write them, `file:line: message`, so editors and CI annotate the right line.
import type { ValidateResponse } from "./api-types.ts";
import type { ApiClient } from "./client.ts";
import { DAG_NAME, type DagFile } from "./dag-files.ts";

export interface FileResult {
  file: string;
  name: string;
  valid: boolean;
  errors: string[];
  warnings: string[];
  response?: ValidateResponse;
}

/** The server writes an issue as `line N, field: message` (line and field optional). */
export function fileIssue(file: string, issue: string, kind: "" | "warning: " = ""): string {
  const m = /^line (\d+)(?:, ([^:]*))?: ([\s\S]*)$/.exec(issue);
  if (!m) return `${file}: ${kind}${issue}`;
  return `${file}:${m[1]}: ${kind}${m[2] ? `${m[2]}: ` : ""}${m[3]}`;
}

/** Validates every file, a few at a time; `known` names DAGs a call may use without a warning. */
export async function validateFiles(client: ApiClient, files: DagFile[], known = new Set<string>()) {
  const results: FileResult[] = [];
  const queue = [...files];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) results.push(await validateOne(client, f, known));
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return files.map((f) => results.find((r) => r.file === f.file) as FileResult);
}

async function validateOne(client: ApiClient, f: DagFile, known: Set<string>): Promise<FileResult> {
  if (!DAG_NAME.test(f.name)) {
    const error = `${f.file}: the DAG name "${f.name}" comes from the file name and must match ${DAG_NAME.source}; rename the file`;
    return { file: f.file, name: f.name, valid: false, errors: [error], warnings: [] };
  }
  const res = await client.post<ValidateResponse>("/dags/validate", { spec: f.spec, name: f.name });
  // A call to a DAG pushed together with this one is not missing.
  const warnings = res.warnings.filter((w) => {
    const called = /DAG (\S+) does not exist \(yet\)/.exec(w)?.[1];
    return called === undefined || !known.has(called);
  });
  return {
    file: f.file,
    name: f.name,
    valid: res.valid,
    errors: res.errors.map((e) => fileIssue(f.file, e)),
    warnings: warnings.map((w) => fileIssue(f.file, w, "warning: ")),
    response: res,
  };
}
