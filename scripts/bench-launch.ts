// `npm run bench:launch [-- N]`: what starting a step's process costs the runner, with Node's
// `spawn` and with the fork helper (runner/src/fork-helper.ts), interleaved in blocks of 10 so
// both share the machine's load. For each: how long the start call holds the runner's event
// loop, and the time to the process's end with its output pipes closed (`true`, one process
// group each, as a step runs). Figures, never assertions. BENCHMARKS.md "The fork helper".
import { LAUNCHERS, type Launcher } from "../runner/src/config.ts";
import { setLauncher } from "../runner/src/launch.ts";
import { prepareLauncher, startProcess } from "../runner/src/process-group.ts";
import type { ExecSpec } from "../src/shared/protocol.ts";

const rounds = Number(process.argv[2] ?? 200);
const exec: ExecSpec = { command: "true", shell: ["sh"], args: [], env: {}, dir: "/tmp", maxOutputBytes: 1024 };

async function once(): Promise<{ callMs: number; doneMs: number }> {
  const t = performance.now();
  const proc = startProcess(exec, { onOutput: () => {} });
  const callMs = performance.now() - t;
  const r = await proc.done;
  if (r.exitCode !== 0) throw new Error(`the step failed: ${JSON.stringify(r)}`);
  return { callMs, doneMs: performance.now() - t };
}

function use(launcher: Launcher): void {
  setLauncher(launcher);
  prepareLauncher();
}

const figures = new Map(LAUNCHERS.map((l) => [l, { callMs: [] as number[], doneMs: [] as number[] }]));
for (let block = 0; block < rounds / 10; block++) {
  for (const launcher of LAUNCHERS) {
    use(launcher);
    // Not counted: a helper started afresh is still starting Perl.
    await once();
    for (let i = 0; i < 10; i++) {
      const r = await once();
      figures.get(launcher)?.callMs.push(r.callMs);
      figures.get(launcher)?.doneMs.push(r.doneMs);
    }
  }
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * xs.length)]?.toFixed(2);
process.stdout.write(
  `| launcher | start call p50 / p90 | to the end, pipes closed, p50 / p90 |\n| --- | --- | --- |\n`,
);
for (const [launcher, f] of figures) {
  process.stdout.write(
    `| ${launcher} | ${pct(f.callMs, 0.5)} / ${pct(f.callMs, 0.9)} ms | ${pct(f.doneMs, 0.5)} / ${pct(f.doneMs, 0.9)} ms |\n`,
  );
}
setLauncher("spawn");
