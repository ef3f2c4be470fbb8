import { describe, expect, it } from "vitest";
import { statementName } from "../../src/call-counts";

describe("the name a storage statement is counted under", () => {
  it.each([
    ["DELETE FROM logs WHERE step = ? AND attempt = ?", "delete.logs"],
    ["INSERT OR IGNORE INTO logs (step, attempt) VALUES (?, ?)", "insert.logs"],
    ["UPDATE logs SET line_end = ? WHERE seq = ?", "update.logs"],
    [
      'insert into "steps" ("name", "state") values (?, ?) on conflict ("name") do update set "state" = excluded.state',
      "insert.steps",
    ],
    ["SELECT acked_seq FROM log_meta WHERE step = ?", "select.log_meta"],
    ["  select count(*) as n from tasks", "select.tasks"],
    ["PRAGMA foreign_keys", "pragma"],
  ])("names %j %s", (query, name) => {
    expect(statementName(query)).toBe(name);
  });
});
