// The spec tab: the DAG's YAML in an editor that validates as you type, with save, rename and
// delete. Long lines wrap at every width, each continuation under its line's indentation
// (hanging-indent.ts), so that a spec reads and edits on a phone without sideways scrolling.
import { yaml } from "@codemirror/lang-yaml";
import { lintGutter } from "@codemirror/lint";
import { EditorView } from "@codemirror/view";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useBlocker, useNavigate } from "@tanstack/react-router";
import CodeMirror from "@uiw/react-codemirror";
import { useMemo, useState } from "react";
import { api, seg } from "../../api/client";
import { ErrorBox } from "../../components/error-box";
import { useTheme } from "../../lib/use-theme";
import { wrapUnderIndent } from "./hanging-indent";
import { dagKey, useSpec } from "./queries";
import { SpecActions } from "./spec-actions";
import { type SpecCheck, specLinter } from "./spec-lint";
import "./spec-tab.css";

export default function SpecTab({ fileName }: { fileName: string }) {
  const spec = useSpec(fileName);
  if (spec.error) return <ErrorBox error={spec.error} />;
  if (!spec.data) return <p className="muted">Loading…</p>;
  return <SpecEditor key={fileName} fileName={fileName} saved={spec.data.spec} />;
}

function SpecEditor({ fileName, saved }: { fileName: string; saved: string }) {
  const theme = useTheme();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [draft, setDraft] = useState(saved);
  const [check, setCheck] = useState<SpecCheck | null>(null);
  const [checkError, setCheckError] = useState<unknown>(null);
  const dirty = draft !== saved;
  // Leaving the tab or the page would drop the edits: ask first.
  useBlocker({
    shouldBlockFn: () => dirty && !window.confirm("Leave the spec? Your changes are not saved."),
    enableBeforeUnload: () => dirty,
  });
  const extensions = useMemo(
    () => [
      yaml(),
      wrapUnderIndent,
      lintGutter(),
      specLinter(fileName, (c, err) => {
        setCheck(c);
        setCheckError(err);
      }),
      EditorView.contentAttributes.of({ "aria-label": "DAG spec (YAML)" }),
    ],
    [fileName],
  );

  const save = useMutation({
    mutationFn: () => api.put(`/dags/${seg(fileName)}/spec`, { spec: draft }),
    onSuccess: async () => {
      qc.setQueryData([...dagKey(fileName), "spec"], { spec: draft, errors: [] });
      await qc.invalidateQueries({ queryKey: dagKey(fileName) });
    },
  });
  const errors = check?.issues.filter((i) => i.severity === "error") ?? [];
  const warnings = check?.issues.filter((i) => i.severity === "warning") ?? [];

  return (
    <div className="spec-tab">
      <div className="toolbar">
        <button
          type="button"
          className="primary"
          disabled={!dirty || save.isPending}
          onClick={() => save.mutate()}
          title={errors.length ? "The server will refuse a spec with errors" : undefined}
        >
          Save
        </button>
        <button type="button" disabled={!dirty} onClick={() => setDraft(saved)}>
          Discard changes
        </button>
        <span className="muted small" role="status">
          {save.isSuccess && !dirty ? "Saved." : dirty ? "Unsaved changes." : ""}
        </span>
        <span className="spacer" />
        <SpecActions
          fileName={fileName}
          onRenamed={(to) => navigate({ to: "/dags/$name", params: { name: to }, search: { tab: "spec" } })}
          onDeleted={() => navigate({ to: "/dags" })}
        />
      </div>
      <ErrorBox error={save.error} />
      <div className="spec-editor">
        <CodeMirror
          value={draft}
          onChange={setDraft}
          extensions={extensions}
          theme={theme}
          minHeight="360px"
          maxHeight="70vh"
          basicSetup={{ lineNumbers: true, foldGutter: true, highlightActiveLine: true }}
        />
      </div>
      <ErrorBox error={checkError} />
      <section className="spec-issues" aria-label="validation">
        {check === null && !checkError && <p className="muted small">Checking…</p>}
        {check?.valid && errors.length === 0 && <p className="spec-valid">The spec is valid.</p>}
        {errors.length > 0 && (
          <>
            <h2 id="spec-errors">Errors</h2>
            <ul aria-labelledby="spec-errors" className="spec-error-list">
              {errors.map((i) => (
                <li key={i.text}>{i.text}</li>
              ))}
            </ul>
          </>
        )}
        {warnings.length > 0 && (
          <>
            <h2 id="spec-warnings">Warnings</h2>
            <ul aria-labelledby="spec-warnings" className="spec-warning-list">
              {warnings.map((i) => (
                <li key={i.text}>{i.text}</li>
              ))}
            </ul>
          </>
        )}
      </section>
    </div>
  );
}
