// The watchdog (runner/src/watchdog.ts): when the runner is gone, every group it was running is
// killed, and no group it had already forgotten (ended, its number free for another).
import { spawn } from "node:child_process";
import { expect, it } from "vitest";
import { Watchdog } from "../../runner/src/watchdog.ts";
import { groupAlive, until } from "./fake-server";

/** A process group of its own (a `sleep`), as a step's. */
function group(): number {
  const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
  child.unref();
  return child.pid as number;
}

it("kills the groups it watches once the runner is gone, and none it was told to forget", async () => {
  const watchdog = new Watchdog();
  const groups = Array.from({ length: 5 }, group);
  for (const g of groups) watchdog.watch(g);
  // Forgotten ones leave their records blank; a later group takes a freed record.
  const [a, b, c, d, e] = groups as [number, number, number, number, number];
  watchdog.unwatch(b);
  watchdog.unwatch(d);
  const later = group();
  watchdog.watch(later);
  try {
    await watchdog.endForTest();
    await until(() => ![a, c, e, later].some(groupAlive), 3_000);
    expect([b, d].map(groupAlive)).toEqual([true, true]);
  } finally {
    for (const g of [...groups, later]) {
      try {
        process.kill(-g, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  }
});
