import type { Pagination } from "../api/types";

/** Previous / next over a server-side paginated list. */
export function Pager({ pagination, onPage }: { pagination?: Pagination; onPage: (page: number) => void }) {
  if (!pagination || pagination.totalPages <= 1) return null;
  const { currentPage, totalPages, totalRecords } = pagination;
  return (
    <nav className="pager" aria-label="pages">
      <button type="button" disabled={currentPage <= 1} onClick={() => onPage(currentPage - 1)}>
        ← Previous
      </button>
      <span>
        page {currentPage} of {totalPages} ({totalRecords})
      </span>
      <button type="button" disabled={currentPage >= totalPages} onClick={() => onPage(currentPage + 1)}>
        Next →
      </button>
    </nav>
  );
}
