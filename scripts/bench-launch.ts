// `npm run bench:launch [-- N]`: what starting a step's process costs the runner, with Node's
// `spawn` and with the fork helper (runner/src/fork-helper.ts), each running a step three ways:
// `true` through `sh` (the figures of BENCHMARKS.md "The fork helper"), `/bin/true` through the
// host's `$SHELL` (a step with no shell of its own, before simple commands skipped the shell) and
// `/bin/true` exec'd without a shell (runner/src/direct-exec.ts). Interleaved in blocks of 10 so
// all share the machine's load. For each: how long the start call holds the runner's event loop,
// and the time to the process's end with its output pipes closed (one process group each, as a
// step runs). Figures, never assertions. BENCHMARKS.md "A simple command without a shell".
// With `--stages`: a step's process stage by stage against make and a plain spawn loop
// (bench-launch-stages.ts).
import type { Launcher } from "../runner/src/config.ts";
import type { ExecSpec } from "../src/shared/protocol.ts";

if (process.argv.includes("--stages")) {
  // Its own module: it turns the runner's trace on, which is read when the runner's modules load.
  await import("./bench-launch-stages.ts");
  process.exit(0);
}
const { LAUNCHERS } = await import("../runner/src/config.ts");
const { setShellAlways } = await import("../runner/src/direct-exec.ts");
const { setLauncher } = await import("../runner/src/launch.ts");
const { prepareLauncher, startProcess } = await import("../runner/src/process-group.ts");

const rounds = Number(process.argv[2] ?? 200);
const base = { args: [], env: {}, dir: "/tmp", maxOutputBytes: 1024 };
const WAYS = {
  "sh -c true": { exec: { ...base, command: "true", shell: ["sh"] }, shellAlways: false },
  [`${process.env.SHELL ?? "sh"} -c /bin/true`]: {
    exec: { ...base, command: "/bin/true", shell: [] },
    shellAlways: true,
  },
  "/bin/true, no shell": { exec: { ...base, command: "/bin/true", shell: [] }, shellAlways: false },
} satisfies Record<string, { exec: ExecSpec; shellAlways: boolean }>;
let exec: ExecSpec = WAYS["sh -c true"].exec;

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

const variants = LAUNCHERS.flatMap((launcher) => Object.keys(WAYS).map((way) => ({ launcher, way })));
const figures = new Map(variants.map((v) => [v, { callMs: [] as number[], doneMs: [] as number[] }]));
for (let block = 0; block < rounds / 10; block++) {
  for (const [variant, f] of figures) {
    use(variant.launcher);
    const way = WAYS[variant.way as keyof typeof WAYS];
    exec = way.exec;
    setShellAlways(way.shellAlways);
    // Not counted: a helper started afresh is still starting Perl.
    await once();
    for (let i = 0; i < 10; i++) {
      const r = await once();
      f.callMs.push(r.callMs);
      f.doneMs.push(r.doneMs);
    }
  }
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * xs.length)]?.toFixed(2);
process.stdout.write(
  `| launcher | step | start call p50 / p90 | to the end, pipes closed, p50 / p90 |\n| --- | --- | --- | --- |\n`,
);
for (const [{ launcher, way }, f] of figures) {
  process.stdout.write(
    `| ${launcher} | \`${way}\` | ${pct(f.callMs, 0.5)} / ${pct(f.callMs, 0.9)} ms | ${pct(f.doneMs, 0.5)} / ${pct(f.doneMs, 0.9)} ms |\n`,
  );
}
setLauncher("spawn");
