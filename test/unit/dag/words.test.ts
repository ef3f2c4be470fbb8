import { describe, expect, it } from "vitest";
import { shellQuote, splitWords } from "../../../src/dag/words";

describe("splitWords", () => {
  it.each([
    ["a b  c", ["a", "b", "c"]],
    ["  leading and trailing  ", ["leading", "and", "trailing"]],
    ['"x y" z', ["x y", "z"]],
    [`K="a b" L='c d'`, ["K=a b", "L=c d"]],
    [`'single \\ "kept"'`, [`single \\ "kept"`]],
    [`"double \\" \\\\ \\$ \\n"`, [`double " \\ $ \\n`]],
    ["back\\ slash", ["back slash"]],
    [`"" ''`, ["", ""]],
    ["tab\tand\nnewline", ["tab", "and", "newline"]],
    ["", []],
    ["D=`date +%F` x", ["D=`date +%F`", "x"]],
    ['"`a b`" `c "d"`', ["`a b`", '`c "d"`']],
  ])("splits %j into %j", (text, words) => {
    expect(splitWords(text)).toEqual({ ok: true, words });
  });

  it.each([
    [`"open`, "unterminated double quote"],
    [`it's`, "unterminated single quote"],
    ["X=`date", "unterminated backtick"],
  ])("refuses %j: %s", (text, message) => {
    expect(splitWords(text)).toEqual({ ok: false, message });
  });
});

describe("shellQuote", () => {
  it.each([
    ["plain", "plain"],
    ["/usr/bin/env", "/usr/bin/env"],
    ["a b", "'a b'"],
    ["it's", `'it'\\''s'`],
    ["", "''"],
    ["$HOME", "'$HOME'"],
  ])("quotes %j as %j", (word, want) => {
    expect(shellQuote(word)).toBe(want);
  });

  it("gives back the same words when a quoted line is split again", () => {
    const argv = ["echo", "a b", "it's", "", "$X", 'say "hi"', "back\\slash", "tab\there"];
    expect(splitWords(argv.map(shellQuote).join(" "))).toEqual({ ok: true, words: argv });
  });
});
