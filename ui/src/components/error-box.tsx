import { ApiError } from "../api/client";

/** An API error as the server said it: message, code, and the fields or lines at fault. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : undefined;
  const details = error instanceof ApiError ? error.details : undefined;
  const list = details && typeof details === "object" && "errors" in details ? (details.errors as unknown[]) : [];
  return (
    <div className="error-box" role="alert">
      <strong>{message}</strong>
      {code && <span className="muted"> ({code})</span>}
      {list.length > 0 && (
        <ul>
          {list.map((e) => (
            <li key={String(e)}>{String(e)}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
