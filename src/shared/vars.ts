// `${NAME}` and `$NAME` references. PURE, no imports: the runner uses it too.

/** A `${NAME}` or `$NAME` reference; the name is group 1 or 2. */
export const VAR_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Replaces `${NAME}` and `$NAME` where `lookup` knows NAME. Everything else stays as written:
 * unknown names, `$1` and other positional or special parameters, and `$$` (with what follows
 * it, so `$$HOME` stays `$$HOME`).
 */
export function expandVars(text: string, lookup: (name: string) => string | undefined): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced, bare) => {
    if (whole === "$$") return whole;
    return lookup((braced ?? bare) as string) ?? whole;
  });
}
