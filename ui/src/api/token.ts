// The API token of this tab: kept in sessionStorage (gone when the tab closes), never in the page.
const KEY = "dagflare.token";

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
  for (const fn of listeners) fn();
}

const listeners = new Set<() => void>();

/** Called when the server refuses the token (401): the app shows the sign-in screen. */
export function onTokenChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
