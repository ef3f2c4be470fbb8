import { describe, expect, it } from "vitest";
import { countLines, type LogChunk, sliceChunks, sliceLog } from "../../../src/run/log-slice";

const text = "one\ntwo\nthree\nfour\n";

describe("sliceLog", () => {
  it.each([
    ["everything", {}, "one\ntwo\nthree\nfour", 4, false],
    ["the last two lines", { tail: 2 }, "three\nfour", 2, true],
    ["the first line", { head: 1 }, "one", 1, true],
    ["lines 2-3 by offset and limit", { offset: 2, limit: 2 }, "two\nthree", 2, true],
    ["an offset past the end", { offset: 10 }, "", 0, true],
    ["a tail longer than the log", { tail: 99 }, "one\ntwo\nthree\nfour", 4, false],
  ])("returns %s", (_label, window, content, lineCount, hasMore) => {
    expect(sliceLog(text, window)).toEqual({
      content,
      lineCount,
      totalLines: 4,
      hasMore,
      isEstimate: false,
      endsWithNewline: lineCount > 0,
    });
  });

  it("joins the lines with newlines and ends with none, as Dagu does, whether the log ended with one or not", () => {
    expect(sliceLog("no newline", {}).content).toBe("no newline");
    expect(sliceLog("a\nb\n", { tail: 1 }).content).toBe("b");
    expect(sliceLog("a\nb", { tail: 1 }).content).toBe("b");
  });

  it("says whether the window's last line ended with a newline, which content leaves out", () => {
    expect(sliceLog("a\nb\n", { tail: 1 }).endsWithNewline).toBe(true);
    expect(sliceLog("a\nb", {}).endsWithNewline).toBe(false);
    expect(sliceLog("a\nb\nc", { head: 2 }).endsWithNewline).toBe(true);
  });

  it("counts an empty log as zero lines", () => {
    expect(sliceLog("", { tail: 5 })).toMatchObject({ content: "", lineCount: 0, totalLines: 0, hasMore: false });
  });
});

describe("sliceChunks", () => {
  const log = "alpha\nbeta\ngamma\ndelta\nepsilon";
  // The log cut into chunks at every place, each chunk knowing the newlines before it.
  const cuts = Array.from({ length: log.length - 1 }, (_, i) => [log.slice(0, i + 1), log.slice(i + 1)]);
  const chunked = (parts: string[]) => {
    let before = 0;
    return parts.map((text) => {
      const c = { text, newlinesBefore: before };
      before += text.split("\n").length - 1;
      return c;
    });
  };

  it.each([{}, { tail: 2 }, { head: 3 }, { offset: 2, limit: 2 }, { offset: 5 }, { offset: 9 }])(
    "reads window %j of a log in chunks as it reads the whole text",
    (window) => {
      for (const parts of cuts) {
        expect(sliceChunks(chunked(parts), countLines(log), window)).toEqual(sliceLog(log, window));
      }
    },
  );

  it("starts at the chunk holding the window's first line", () => {
    const [, second] = chunked(["alpha\nbeta\n", "gamma\ndelta\n"]);
    expect(sliceChunks([second as LogChunk], 4, { tail: 1 }).content).toBe("delta");
  });

  it("ends a window early at the byte bound, with hasMore", () => {
    const r = sliceLog("aaaa\nbbbb\ncccc\n", {}, 11);
    expect(r).toMatchObject({ content: "aaaa\nbbbb", lineCount: 2, hasMore: true });
  });

  it("cuts a single line longer than the bound on a character boundary", () => {
    const r = sliceLog(`${"é".repeat(10)}\n`, {}, 7);
    expect(r).toMatchObject({ content: "ééé", lineCount: 1, hasMore: true });
  });
});
