// V8 CPU profiles of the stack's processes over the inspector (the Worker's isolate in workerd,
// the runner's Node), ranked by self time per function and per source module of a bundle.
import { readFileSync } from "node:fs";

/** A minimal Chrome DevTools Protocol session over an inspector's WebSocket. */
export async function inspector(port, pick = (targets) => targets[0]) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = pick(targets) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const n = ++id;
      pending.set(n, (msg) => (msg.error ? reject(new Error(`${method}: ${msg.error.message}`)) : resolve(msg.result)));
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** The source module of each line of a bundle, from esbuild's `// path` markers (unminified). */
export function moduleOfLine(bundle) {
  const lines = readFileSync(bundle, "utf8").split("\n");
  const marks = [];
  lines.forEach((l, i) => {
    const m = /^\/\/ ((?:runner\/src|src|node_modules|migrations|\.\.)\S*\.(?:[cm]?js|ts|json|sql))$/.exec(l);
    if (m) marks.push([i, m[1].replace(/^.*node_modules\//, "npm:")]);
  });
  return (line) => {
    let lo = 0;
    let hi = marks.length - 1;
    let found = "(bundle)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid][0] <= line) {
        found = marks[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/**
 * Self time per function and per module, ms, from a V8 CPU profile; idle left out. Frames of
 * `bundleFile` (the end of its URL) are named by their source module, others by their URL.
 */
export function rank(profile, moduleOf, bundleFile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const fns = new Map();
  const modules = new Map();
  let total = 0;
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === "(idle)") continue;
    total += ms;
    const mod = url.endsWith(bundleFile) ? moduleOf(lineNumber) : url || "(native)";
    const fn = `${functionName || "(anonymous)"} ${mod}:${lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + ms);
    const group = mod.startsWith("npm:")
      ? mod
          .split("/")
          .slice(0, mod.startsWith("npm:@") ? 2 : 1)
          .join("/")
      : mod;
    modules.set(group, (modules.get(group) ?? 0) + ms);
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms: Number(ms.toFixed(1)), share: Number((ms / total).toFixed(3)) }));
  return { totalMs: Number(total.toFixed(1)), functions: top(fns, 40), modules: top(modules, 25) };
}

/** Prints a ranking: the top modules and functions with their share. */
export function printRanking(title, ranked, file) {
  console.log(`\n${title}: self time under the profiler, ${ranked.totalMs} ms (${file})`);
  console.log("by module:");
  for (const m of ranked.modules.slice(0, 15))
    console.log(`  ${m.ms.toFixed(1).padStart(8)} ms ${(m.share * 100).toFixed(1).padStart(5)}%  ${m.name}`);
  console.log("by function:");
  for (const f of ranked.functions.slice(0, 25))
    console.log(`  ${f.ms.toFixed(1).padStart(8)} ms ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name}`);
}
