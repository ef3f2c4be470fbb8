import { describe, expect, it } from "vitest";
import { nextFireAt, parseCron, previousFireAt } from "../../../src/dag/cron";
import { parseDag } from "../../../src/dag/parse";
import { formatIssue } from "../../../src/dag/types";

const steps = "steps:\n  - echo hi\n";

function policyOf(yaml: string) {
  const r = parseDag(`${yaml}\n${steps}`, { name: "p" });
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
  const { schedule, skipIfSuccessful, maxActiveRuns, queue, histRetentionDays } = r.dag;
  return { schedule, skipIfSuccessful, maxActiveRuns, queue, histRetentionDays };
}

function errorsOf(yaml: string): string[] {
  const r = parseDag(`${yaml}\n${steps}`, { name: "p" });
  return r.ok ? [] : r.errors.map(formatIssue);
}

const at = (iso: string) => Date.parse(iso);

describe("run policy keys", () => {
  it.each([
    ['schedule: "5 4 * * *"', ["5 4 * * *"]],
    ['schedule: ["0 * * * *", "CRON_TZ=Asia/Tokyo 30 9 * * 1-5"]', ["0 * * * *", "CRON_TZ=Asia/Tokyo 30 9 * * 1-5"]],
    ['schedule:\n  start: "*/5 * * * *"', ["*/5 * * * *"]],
  ])("reads %s", (yaml, expected) => {
    expect(policyOf(yaml).schedule).toEqual(expected);
  });

  it("reads skipIfSuccessful, maxActiveRuns, queue and histRetentionDays", () => {
    expect(policyOf("skipIfSuccessful: true\nmaxActiveRuns: 2\nqueue: etl\nhistRetentionDays: 7")).toEqual({
      schedule: undefined,
      skipIfSuccessful: true,
      maxActiveRuns: 2,
      queue: "etl",
      histRetentionDays: 7,
    });
  });

  it("reads maxActiveRuns -1 as no limit", () => {
    expect(policyOf("maxActiveRuns: -1").maxActiveRuns).toBeUndefined();
  });

  it.each([
    [
      'schedule: "61 * * * *"',
      'line 1, schedule: invalid cron expression "61 * * * *": CronPattern: Invalid value for minute: 61',
    ],
    [
      'schedule: "* * * *"',
      'line 1, schedule: invalid cron expression "* * * *": a schedule needs exactly five fields',
    ],
    [
      'schedule: ["0 * * * *", "CRON_TZ=Mars/Olympus 0 9 * * *"]',
      'line 1, schedule[1]: invalid cron expression "CRON_TZ=Mars/Olympus 0 9 * * *": unknown time zone "Mars/Olympus"',
    ],
    ['schedule:\n  stop: "0 * * * *"', 'line 2, schedule.stop: "schedule.stop" is not supported yet'],
    ["maxActiveRuns: -2", "line 1, maxActiveRuns: maxActiveRuns must be an integer >= -1, not -2"],
    ['queue: "a b"', 'line 1, queue: invalid queue name "a b": use letters, digits, _ and - (at most 64)'],
  ])("refuses %s with the offending text", (yaml, message) => {
    const errs = errorsOf(yaml);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toContain(message);
  });
});

describe("cron times", () => {
  const spec = (e: string) => {
    const r = parseCron(e);
    if (!r.ok) throw new Error(r.message);
    return r.spec;
  };

  it("gives the earliest next time over several expressions", () => {
    const specs = [spec("0 * * * *"), spec("30 9 * * *")];
    expect(nextFireAt(specs, at("2026-03-01T09:10:00Z"))).toBe(at("2026-03-01T09:30:00Z"));
    expect(nextFireAt(specs, at("2026-03-01T09:30:00Z"))).toBe(at("2026-03-01T10:00:00Z"));
  });

  it("reads the fields in the CRON_TZ zone", () => {
    // 09:00 in Tokyo (UTC+9, no daylight saving) is 00:00 UTC.
    expect(nextFireAt([spec("CRON_TZ=Asia/Tokyo 0 9 * * *")], at("2026-03-01T12:00:00Z"))).toBe(
      at("2026-03-02T00:00:00Z"),
    );
    // New York is on daylight time (UTC-4) in July.
    expect(nextFireAt([spec("CRON_TZ=America/New_York 0 9 * * *")], at("2026-07-01T00:00:00Z"))).toBe(
      at("2026-07-01T13:00:00Z"),
    );
  });

  it("gives the previous time before a reference", () => {
    expect(previousFireAt([spec("*/5 * * * *")], at("2026-03-01T09:10:00Z"))).toBe(at("2026-03-01T09:05:00Z"));
  });
});
