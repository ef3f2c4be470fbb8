import { describe, expect, it } from "vitest";
import { composeMail, type RunReport, subjectOf, tailOf } from "../../../src/mail/message";

const report: RunReport = {
  dagName: "etl",
  runId: "r1",
  status: "failed",
  finishedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  steps: [{ name: "load", status: "failed", exitCode: 3 }],
};
const mail = (subject: string, logs = [] as Array<{ step: string; text: string; cut: boolean }>) =>
  composeMail({ from: "a@example.com", to: ["b@example.com"], subject, report, logs, messageId: "m1@x", now: 0 });
const decoded = (text: string) =>
  text
    .split("\r\n\r\n")
    .slice(1)
    .map((p) => Buffer.from(p.split("\r\n--")[0]?.replace(/\r\n/g, "") ?? "", "base64").toString("utf8"));

describe("the mail of a run", () => {
  it("has Dagu's subject: the prefix, the DAG and the status in brackets", () => {
    expect(subjectOf("[Error]", report)).toBe("[Error] etl (failed)");
    expect(subjectOf(undefined, report)).toBe("etl (failed)");
  });

  it("encodes a subject that is not ASCII as UTF-8 words holding whole characters", () => {
    const header = /^Subject: (.*)$/m.exec(mail("échec ✗ du traitement 😀 etl"))?.[1] ?? "";
    const words = header.split(" ");
    expect(words.every((w) => /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/.test(w))).toBe(true);
    const text = words.map((w) => Buffer.from(w.slice(10, -2), "base64").toString("utf8")).join("");
    expect(text).toBe("échec ✗ du traitement 😀 etl");
  });

  it("keeps a line break out of the subject, so it cannot add a header", () => {
    expect(mail("a\r\nBcc: x@example.com")).not.toMatch(/^Bcc:/m);
  });

  it("says in the body which step failed with its exit code", () => {
    expect(decoded(mail("s")).join("")).toContain("load: failed (exit code 3)");
  });

  it("attaches each log and names the ones that were cut", () => {
    const text = mail("s", [{ step: "load", text: "row 1\nrow 2\n", cut: true }]);
    expect(text).toContain('Content-Disposition: attachment; filename="load.log"');
    const parts = decoded(text).join("\n");
    expect(parts).toContain("row 1\nrow 2\n");
    expect(parts).toContain("Only the end of these steps' logs is attached: load.");
  });
});

describe("the end of a log", () => {
  it("keeps a log within the limit whole", () => {
    expect(tailOf("a\nb\n", 100)).toBe("a\nb\n");
  });

  it("keeps the last bytes of a longer log, from the start of a line", () => {
    expect(tailOf("first line\nsecond\nthird\n", 10)).toBe("third\n");
    expect(tailOf("first line\nsecond\nthird\n", 14)).toBe("second\nthird\n");
  });
});
