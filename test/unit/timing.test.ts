// The server's opt-in timing marks (src/timing.ts): one parsable log line each when
// DAGFLARE_TIMING=on (what `npm run bench:fixed -- --timing` reads), nothing otherwise.
import { afterEach, describe, expect, it, vi } from "vitest";
import { timingMark } from "../../src/timing";

describe("timing marks", () => {
  afterEach(() => vi.restoreAllMocks());

  it("logs a mark as one line of JSON with the run and the time when on", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const before = Date.now();
    timingMark({ DAGFLARE_TIMING: "on" }, "enqueued", "run-1");
    expect(log).toHaveBeenCalledTimes(1);
    const line = String(log.mock.calls[0]?.[0]);
    expect(line.startsWith("dagflare-timing ")).toBe(true);
    const mark = JSON.parse(line.slice("dagflare-timing ".length));
    expect(mark).toEqual({ mark: "enqueued", run: "run-1", t: expect.any(Number) });
    expect(mark.t).toBeGreaterThanOrEqual(before);
  });

  it("logs nothing when unset or set to anything but on", () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    timingMark({}, "enqueued", "run-1");
    timingMark({ DAGFLARE_TIMING: "off" }, "enqueued", "run-1");
    expect(log).not.toHaveBeenCalled();
  });
});
