// Collects validation problems with the line of the YAML node at fault, and reads typed
// scalars, recording a problem (never throwing) when the type is wrong.
import { isScalar, type LineCounter, type Node } from "yaml";
import type { DagIssue } from "./types";

export class Issues {
  readonly list: DagIssue[] = [];
  readonly warnings: DagIssue[] = [];
  constructor(private readonly lines: LineCounter) {}

  add(issue: DagIssue): void {
    this.list.push(issue);
  }

  lineOf(node: Node | null | undefined): number | undefined {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }

  at(node: Node | null | undefined, field: string | undefined, message: string): void {
    const issue: DagIssue = { message };
    const line = this.lineOf(node);
    if (line !== undefined) issue.line = line;
    if (field !== undefined) issue.field = field;
    this.list.push(issue);
  }

  string(node: Node, field: string): string | undefined {
    if (isScalar(node) && typeof node.value === "string") return node.value;
    if (isScalar(node) && (typeof node.value === "number" || typeof node.value === "boolean"))
      return String(node.value);
    this.at(node, field, `${field} must be a string`);
    return undefined;
  }

  /** An integer >= min; numeric strings ("3") are accepted, as in Dagu's schema. */
  int(node: Node, field: string, min: number): number | undefined {
    const v = isScalar(node) ? node.value : undefined;
    const n = typeof v === "number" ? v : typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isInteger(n) || n < min) {
      this.at(node, field, `${field} must be an integer >= ${min}, not ${JSON.stringify(v ?? null)}`);
      return undefined;
    }
    return n;
  }

  bool(node: Node, field: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === "boolean") return node.value;
    this.at(node, field, `${field} must be true or false`);
    return undefined;
  }
}
