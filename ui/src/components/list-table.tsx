// A short list as a table: a head of column names, a row per item, each cell drawn by its
// column; or, when there is nothing to list, one line saying so (and what to do about it).
// Long lists are virtualised instead (virtual-tbody.tsx).
import type { ReactNode } from "react";

export interface Column<T> {
  /** The column's name; empty for a column of buttons. */
  head: string;
  cell: (row: T) => ReactNode;
  className?: string;
}

export function ListTable<T>(props: {
  /** The table's accessible name. */
  label: string;
  columns: Array<Column<T>>;
  rows: T[];
  rowKey: (row: T) => string;
  /** What an empty list shows instead of an empty table. */
  empty: ReactNode;
}) {
  if (props.rows.length === 0) return <p className="muted">{props.empty}</p>;
  return (
    <div className="table-scroll">
      <table className="list" aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map((c, i) => (
              <th key={c.head || i} scope="col">
                {c.head}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)}>
              {props.columns.map((c, i) => (
                <td key={c.head || i} className={c.className}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
