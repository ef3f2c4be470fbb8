// A wrapped line of the spec continues under its own text, not at the editor's left edge: each
// line gets a hanging indent as wide as its leading spaces and list dashes ("  - name: ..."
// continues under "name"), so a long YAML value that wraps still reads as part of its key. Only
// how the line is drawn changes; the text is untouched.
import { type Extension, RangeSetBuilder } from "@codemirror/state";
import { Decoration, type DecorationSet, EditorView, ViewPlugin, type ViewUpdate } from "@codemirror/view";

/** The indentation a line's continuation keeps: its leading spaces and any "- " markers after them. */
const LEAD = /^[ \t]*(?:-[ \t]+)*/;

/** One decoration per width, shared by every line of that width. */
const byWidth = new Map<number, Decoration>();
function hang(columns: number): Decoration {
  let d = byWidth.get(columns);
  if (!d) {
    // The editor's own left padding of a line is 6px (CodeMirror's base theme).
    d = Decoration.line({
      attributes: { style: `padding-left: calc(${columns}ch + 6px); text-indent: -${columns}ch` },
    });
    byWidth.set(columns, d);
  }
  return d;
}

function decorate(view: EditorView): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>();
  for (const { from, to } of view.visibleRanges) {
    for (let pos = from; pos <= to; ) {
      const line = view.state.doc.lineAt(pos);
      const columns = LEAD.exec(line.text)?.[0].length ?? 0;
      if (columns > 0 && columns < line.length) builder.add(line.from, line.from, hang(columns));
      pos = line.to + 1;
    }
  }
  return builder.finish();
}

const hangingIndent = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = decorate(view);
    }
    update(u: ViewUpdate) {
      if (u.docChanged || u.viewportChanged) this.decorations = decorate(u.view);
    }
  },
  { decorations: (p) => p.decorations },
);

/** Long lines wrap in the editor instead of scrolling it sideways, each under its own indentation. */
export const wrapUnderIndent: Extension = [EditorView.lineWrapping, hangingIndent];
