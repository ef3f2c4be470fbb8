// Shell-style words, the way a POSIX shell splits them without expanding anything. Dagu uses
// this form for `shell: bash -e`, for a params string and for the params of a start call, so
// `X="a b"` is one word, `X=a b`; a backtick command substitution is one word, kept as written.
// PURE.

export type SplitResult = { ok: true; words: string[] } | { ok: false; message: string };

/** Characters a backslash escapes inside double quotes (POSIX); before others it stays. */
const DQ_ESCAPABLE = '"\\$`';

export function splitWords(text: string): SplitResult {
  const words: string[] = [];
  let word = "";
  // A word exists once any character or quote was seen: `""` is one empty word.
  let inWord = false;
  let quote: "'" | '"' | "`" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    const next = text.charAt(i + 1);
    if (quote === "`") {
      // A command substitution is one word, kept with its backticks for the shell that runs it.
      word += c;
      if (c === "`") quote = null;
    } else if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && next !== "" && DQ_ESCAPABLE.includes(next)) {
        word += next;
        i++;
      } else word += c;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      inWord = true;
      if (c === "`") {
        quote = c;
        word += c;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === "\\" && next !== "") {
        word += next;
        i++;
      } else word += c;
    }
  }
  if (quote !== null) {
    const what = quote === "`" ? "backtick" : `${quote === "'" ? "single" : "double"} quote`;
    return { ok: false, message: `unterminated ${what}` };
  }
  if (inWord) words.push(word);
  return { ok: true, words };
}

/** Quotes one argv word for `sh -c` when it holds anything but plainly safe characters. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
