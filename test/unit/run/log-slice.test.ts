import { describe, expect, it } from "vitest";
import { sliceLog } from "../../../src/run/log-slice";

const text = "one\ntwo\nthree\nfour\n";

describe("sliceLog", () => {
  it.each([
    ["everything", {}, "one\ntwo\nthree\nfour\n", 4, false],
    ["the last two lines", { tail: 2 }, "three\nfour\n", 2, true],
    ["the first line", { head: 1 }, "one\n", 1, true],
    ["lines 2-3 by offset and limit", { offset: 2, limit: 2 }, "two\nthree\n", 2, true],
    ["an offset past the end", { offset: 10 }, "", 0, true],
    ["a tail longer than the log", { tail: 99 }, text, 4, false],
  ])("returns %s", (_label, window, content, lineCount, hasMore) => {
    expect(sliceLog(text, window)).toEqual({ content, lineCount, totalLines: 4, hasMore, isEstimate: false });
  });

  it("keeps a missing final newline when returning the whole log", () => {
    expect(sliceLog("no newline", {}).content).toBe("no newline");
  });

  it("counts an empty log as zero lines", () => {
    expect(sliceLog("", { tail: 5 })).toMatchObject({ content: "", lineCount: 0, totalLines: 0, hasMore: false });
  });
});
