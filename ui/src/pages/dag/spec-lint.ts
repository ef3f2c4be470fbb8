// Validation as you type: the spec goes to POST /dags/validate (CodeMirror's linter debounces and
// drops answers for a document that has changed since), and the server's problems come back as
// diagnostics at their lines.
import { type Diagnostic, linter } from "@codemirror/lint";
import type { Text } from "@codemirror/state";
import { api } from "../../api/client";

export interface SpecIssue {
  severity: "error" | "warning";
  /** 1-based, when the server knows it. */
  line?: number;
  /** As the server wrote it: "line 3, steps[0].depends: …". */
  text: string;
}

export interface SpecCheck {
  valid: boolean;
  issues: SpecIssue[];
}

/** The server writes an issue as "line N, field: message", "line N: message", or just the message. */
export function lineOf(text: string): number | undefined {
  const m = /^line (\d+)[,:]/.exec(text);
  return m ? Number(m[1]) : undefined;
}

export async function validateSpec(spec: string, name: string): Promise<SpecCheck> {
  const res = await api.post<{ valid: boolean; errors: string[]; warnings?: string[] }>("/dags/validate", {
    spec,
    name,
  });
  const issues: SpecIssue[] = [
    ...res.errors.map((text) => ({ severity: "error" as const, line: lineOf(text), text })),
    ...(res.warnings ?? []).map((text) => ({ severity: "warning" as const, line: lineOf(text), text })),
  ];
  return { valid: res.valid, issues };
}

function diagnostics(doc: Text, issues: SpecIssue[]): Diagnostic[] {
  return issues.map((i) => {
    // An issue without a line (or past the end) marks the first line: it still shows in the editor.
    const line = doc.line(Math.min(Math.max(i.line ?? 1, 1), doc.lines));
    return { from: line.from, to: line.to, severity: i.severity, message: i.text, source: "dagflare" };
  });
}

const DEBOUNCE_MS = 400;

/**
 * The editor's linter; `onCheck` hears each answer for the current document, or the error when
 * the server could not be asked.
 */
export function specLinter(name: string, onCheck: (check: SpecCheck | null, error: unknown) => void) {
  return linter(
    async (view) => {
      const doc = view.state.doc;
      try {
        const check = await validateSpec(doc.toString(), name);
        // A newer document is on its way to the server: this answer is stale.
        if (view.state.doc !== doc) return [];
        onCheck(check, null);
        return diagnostics(doc, check.issues);
      } catch (err) {
        if (view.state.doc === doc) onCheck(null, err);
        return [];
      }
    },
    { delay: DEBOUNCE_MS },
  );
}
