// The current theme as React state, for components that draw outside CSS (the graph, the editor).
import { useSyncExternalStore } from "react";
import type { Theme } from "./theme";

function subscribe(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
  return () => observer.disconnect();
}

const current = (): Theme => (document.documentElement.dataset.theme === "dark" ? "dark" : "light");

/** Follows `document.documentElement.dataset.theme`, which the theme switch sets. */
export function useTheme(): Theme {
  return useSyncExternalStore(subscribe, current);
}
