// Matching a value against `expected` (preconditions, repeat conditions, continueOn.output).
// PURE, no imports: the runner uses it too.

/** Whether `text` matches `expected`: a `re:` pattern is searched for (as Go's MatchString does); any other text must be equal. */
export function matchesExpected(text: string, expected: string): boolean {
  if (expected.startsWith("re:")) return new RegExp(expected.slice(3)).test(text);
  return text === expected;
}
