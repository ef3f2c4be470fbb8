// DAG files on disk: a folder's *.yaml and *.yml files (not its subfolders, as in Dagu's DAGs
// folder) or files named one by one; each DAG is named after its file, as Dagu names them.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { CliError } from "./errors.ts";

export const DAG_NAME = /^[a-zA-Z0-9_-]+$/;
const YAML_FILE = /\.ya?ml$/i;

export interface DagFile {
  /** As the user wrote it (relative paths stay relative), for messages. */
  file: string;
  name: string;
  spec: string;
}

export function dagNameOf(file: string): string {
  return path.basename(file).replace(YAML_FILE, "");
}

/** Every DAG file the arguments name; `folders` tells whether each argument was a folder. */
export function collectDagFiles(args: string[]): { files: DagFile[]; folders: boolean[] } {
  const files: DagFile[] = [];
  const folders: boolean[] = [];
  for (const arg of args) {
    let isDir: boolean;
    try {
      isDir = statSync(arg).isDirectory();
    } catch (err) {
      throw new CliError(
        `${arg}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or folder" : (err as Error).message}`,
      );
    }
    folders.push(isDir);
    const paths = isDir
      ? readdirSync(arg)
          .filter((f) => YAML_FILE.test(f))
          .sort()
          .map((f) => path.join(arg, f))
      : [arg];
    if (isDir && paths.length === 0) throw new CliError(`${arg}: no .yaml or .yml files in this folder`);
    for (const file of paths) files.push({ file, name: dagNameOf(file), spec: readFileSync(file, "utf8") });
  }
  const byName = new Map<string, string>();
  for (const f of files) {
    const other = byName.get(f.name);
    if (other !== undefined && other !== f.file) {
      throw new CliError(`${f.file}: DAG ${f.name} is also defined by ${other}; a DAG is named after its file`);
    }
    byName.set(f.name, f.file);
  }
  return { files: files.filter((f, i) => files.findIndex((g) => g.file === f.file) === i), folders };
}
