// Every list of the UI as one table, written once: a head of column names that stays in view
// while a long list scrolls, a row per item with each cell drawn by its column, one line instead
// of an empty table, only the rows near the viewport in the page when there are many
// (virtual-tbody.tsx), and optionally a link that a click anywhere on a row follows. In a narrow
// window a wide table scrolls sideways in its own box with its actions kept in view; on a phone
// each row is a card instead (list-table.css), with every action in reach.
import { type NavigateOptions, useNavigate } from "@tanstack/react-router";
import type { MouseEvent, ReactNode } from "react";
import { type RowMeasure, VirtualTbody } from "./virtual-tbody";
import "./list-table.css";

/**
 * Where a column goes in a row's card on a phone: the card's title (top left), a badge beside it
 * (top right: a status), a field under them with the column's name as its label (the default),
 * the row of buttons at the card's foot, or nowhere (what the title already says).
 */
export type CardPlace = "title" | "badge" | "field" | "actions" | "hidden";

export interface Column<T> {
  /** The column's name, also the label of its field in a card. */
  head: string;
  cell: (row: T) => ReactNode;
  className?: string;
  card?: CardPlace;
}

export function ListTable<T>(props: {
  /** The table's accessible name. */
  label: string;
  /** A visible title above the table. */
  caption?: string;
  columns: Array<Column<T>>;
  rows: T[];
  rowKey: (row: T) => string;
  /** What an empty list shows instead of an empty table (null: nothing at all). */
  empty: ReactNode;
  /** Where a click on a row, away from its links and buttons, goes (its main link's target). */
  rowLink?: (row: T) => NavigateOptions;
  /** A table of label and value rows has no column heads. */
  noHead?: boolean;
  /** "table" keeps the table on a phone too (a short table of a few narrow columns). */
  layout?: "cards" | "table";
  className?: string;
}) {
  const navigate = useNavigate();
  const { columns, rowLink } = props;
  if (props.rows.length === 0) return props.empty === null ? null : <p className="muted">{props.empty}</p>;
  const renderRow = (row: T, measure?: RowMeasure) => {
    const to = rowLink?.(row);
    return (
      <tr {...measure} className={to ? "linked" : undefined} onClick={to && ((e) => follow(e, () => navigate(to)))}>
        {columns.map((c, i) => (
          <Cell key={c.head || i} column={c} value={c.cell(row)} labelled={props.layout !== "table"} />
        ))}
      </tr>
    );
  };
  return (
    <div className={props.layout === "table" ? "table-scroll" : "table-scroll cards"}>
      <table className={props.className ? `list ${props.className}` : "list"} aria-label={props.label}>
        {props.caption && <caption>{props.caption}</caption>}
        {!props.noHead && (
          <thead>
            <tr>
              {columns.map((c, i) => (
                <th key={c.head || i} scope="col" className={c.card === "actions" ? "actions" : undefined}>
                  {c.head}
                </th>
              ))}
            </tr>
          </thead>
        )}
        <VirtualTbody rows={props.rows} rowKey={props.rowKey} columns={columns.length} renderRow={renderRow} />
      </table>
    </div>
  );
}

/**
 * One cell. A field's label is an element of its own, shown only in a card (list-table.css): in
 * the table it is left out, for eyes and screen readers alike, as the column's head names it
 * there; in a card, where the heads are left out, it is read and can be selected like any text.
 * An empty field has no label, so that a card leaves it out; a list that stays a table on a phone
 * has none at all.
 */
function Cell<T>({ column: c, value, labelled }: { column: Column<T>; value: ReactNode; labelled: boolean }) {
  const card = c.card ?? "field";
  const empty = value === null || value === undefined || value === false || value === "";
  return (
    <td className={cellClass(c)} data-card={card}>
      {labelled && card === "field" && c.head && !empty && <span className="card-label">{c.head}</span>}
      {value}
    </td>
  );
}

function cellClass<T>(c: Column<T>): string | undefined {
  const classes = [c.className, c.card === "actions" && "actions"].filter(Boolean);
  return classes.length ? classes.join(" ") : undefined;
}

/**
 * A click on a row follows its link unless it was meant for something in the row (a link, a
 * button, a field, an open dialog) or it ended a selection of the row's text. The row's own link
 * stays the way there for the keyboard, a middle click and a new tab.
 */
function follow(e: MouseEvent<HTMLTableRowElement>, go: () => void) {
  const target = e.target as Element;
  if (target.closest("a, button, input, select, textarea, label, summary, dialog")) return;
  if (window.getSelection()?.toString()) return;
  go();
}
