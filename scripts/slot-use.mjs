// How a wide run used the runner's slots, from the runner's trace (DAGFLARE_RUNNER_TRACE,
// runner/src/trace.ts): how many slots held a step on average and how many ran a process, and
// a step's way through its slot, stage by stage (means over the run's steps), up to the reply
// to its completion, which frees the slot and brings the slot's next lease.
import { readFileSync } from "node:fs";

export const SLOT_STAGES = [
  ["lease taken on -> start asked (step's setup)", "leased", "spawn"],
  ["start asked -> process running (the launcher)", "spawn", "pid"],
  ["process running -> exit seen", "pid", "exit"],
  ["exit seen -> output read to its end", "exit", "closed"],
  ["output read -> completion handed to the transport", "closed", "sent"],
  ["handed -> on the socket (waits for the call in flight)", "sent", "out"],
  ["on the socket -> reply (the server's round trip)", "out", "reply"],
];

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
const round = (x, d = 2) => Number(x.toFixed(d));

/** Reads a trace file: one JSON object per line. */
export function readTrace(file) {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** The slots' use by one run (`runId`) of `concurrency` slots, from the runner's trace `lines`. */
export function slotUse(lines, runId, concurrency) {
  const firstAt = (stage, key, value) => lines.find((l) => l.stage === stage && l[key] === value)?.t;
  const out = lines.filter((l) => l.stage === "sock-out");
  const replyAt = new Map(lines.filter((l) => l.stage === "sock-in").map((l) => [l.call, l.t]));
  const leases = [
    ...new Set(lines.filter((l) => l.stage === "leased" && l.lease.startsWith(`${runId}.`)).map((l) => l.lease)),
  ];
  const calls = new Map();
  const steps = leases.map((lease) => {
    const pid = lines.find((l) => l.stage === "pid" && l.lease === lease)?.pid;
    const s = {
      leased: firstAt("leased", "lease", lease),
      spawn: firstAt("spawn", "lease", lease),
      pid: firstAt("pid", "lease", lease),
      exit: pid === undefined ? undefined : firstAt("exit", "pid", pid),
      closed: firstAt("closed", "lease", lease),
      sent: firstAt("sent", "lease", lease),
    };
    const own = `/leases/${encodeURIComponent(lease)}/complete`;
    const call = out.find(
      (l) => l.t >= (s.sent ?? Number.POSITIVE_INFINITY) && (l.path === own || l.path === "/completions"),
    );
    if (call) {
      s.out = call.t;
      s.reply = replyAt.get(call.call);
      calls.set(call.call, (calls.get(call.call) ?? 0) + 1);
    }
    return s;
  });
  const done = steps.filter((s) => s.leased !== undefined && s.reply !== undefined);
  if (done.length === 0) return undefined;
  const from = Math.min(...done.map((s) => s.leased));
  const to = Math.max(...done.map((s) => s.reply));
  const windowMs = to - from;
  const held = done.reduce((n, s) => n + (s.reply - s.leased), 0) / windowMs;
  const running = done.reduce((n, s) => n + ((s.exit ?? s.pid) - s.pid || 0), 0) / windowMs;
  const cycleMs = (concurrency * windowMs) / done.length;
  const inSlotMs = mean(done.map((s) => s.reply - s.leased));
  return {
    steps: done.length,
    windowMs: round(windowMs, 0),
    slotsHeld: round(held),
    processesRunning: round(running),
    slotCycleMs: round(cycleMs),
    stagesMs: Object.fromEntries(
      SLOT_STAGES.map(([name, a, b]) => [name, round(mean(done.map((s) => s[b] - s[a]).filter(Number.isFinite)))]),
    ),
    // A slot's time from its completion's reply to its next lease taken on (or idle).
    replyToNextLeaseMs: round(cycleMs - inSlotMs),
    completionsPerCall: round(mean([...calls.values()])),
    leaseCalls: lines.filter((l) => l.stage === "sock-out" && l.path === "/lease" && l.t >= from && l.t <= to).length,
  };
}

/** Prints `slotUse`'s figures. */
export function printSlotUse(u, concurrency) {
  if (!u) return console.log("  (no step of the run in the runner's trace)");
  console.log(
    `  ${u.steps} steps in ${u.windowMs} ms: slots held ${u.slotsHeld} of ${concurrency}, processes running ${u.processesRunning}; a slot's cycle ${u.slotCycleMs} ms per step`,
  );
  for (const [name, ms] of Object.entries(u.stagesMs)) console.log(`    ${String(ms).padStart(7)} ms  ${name}`);
  console.log(`    ${String(u.replyToNextLeaseMs).padStart(7)} ms  reply -> the slot's next lease taken on (or idle)`);
  console.log(`  completions per call ${u.completionsPerCall}, lease requests ${u.leaseCalls}`);
}
