// Collects validation problems with the line of the YAML node at fault, and reads typed
// scalars, recording a problem (never throwing) when the type is wrong, so that one pass over
// a file reports everything that is wrong with it.
import { isScalar, type LineCounter, type Node } from "yaml";
import type { DagIssue } from "./types";
import { scalarText } from "./yaml-nodes";

export class Issues {
  readonly errors: DagIssue[] = [];
  readonly warnings: DagIssue[] = [];
  constructor(private readonly lines: LineCounter) {}

  lineOf(node: Node | null | undefined): number | undefined {
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }

  at(node: Node | null | undefined, field: string | undefined, message: string): void {
    this.errors.push(this.issue(node, field, message));
  }

  warn(node: Node | null | undefined, field: string | undefined, message: string): void {
    this.warnings.push(this.issue(node, field, message));
  }

  private issue(node: Node | null | undefined, field: string | undefined, message: string): DagIssue {
    const issue: DagIssue = { message };
    const line = this.lineOf(node);
    if (line !== undefined) issue.line = line;
    if (field !== undefined && field !== "") issue.field = field;
    return issue;
  }

  /** A string; numbers and booleans are taken as written (`name: 2024` is "2024"). */
  string(node: Node, field: string): string | undefined {
    const text = isScalar(node) && node.value !== null ? scalarText(node) : undefined;
    if (text === undefined) this.at(node, field, `${field} must be a string`);
    return text;
  }

  /**
   * An integer >= min, and at most `max.value` when given (`max.why` names the limit);
   * numeric strings ("3") are accepted, as in Dagu's schema.
   */
  int(node: Node, field: string, min: number, max?: { value: number; why: string }): number | undefined {
    const v = isScalar(node) ? node.value : undefined;
    const n = typeof v === "number" ? v : typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    const shown = isScalar(node) ? JSON.stringify(v ?? null) : "a collection";
    if (!Number.isSafeInteger(n) || n < min) {
      this.at(node, field, `${field} must be an integer >= ${min}, not ${shown}`);
      return undefined;
    }
    if (max && n > max.value) {
      this.at(node, field, `${field} must be at most ${max.value} (${max.why}), not ${shown}`);
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
