// dagflare runner ...: the runner (runner/src), in this same process and unchanged. It reads its
// flags from process.argv, as it does when run on its own; it is bundled into this file but
// loaded only here, so the other commands never start it.
export async function runner(args: string[]): Promise<void> {
  process.argv = [process.argv[0] ?? process.execPath, process.argv[1] ?? "dagflare", ...args];
  await import("../../../runner/src/cli.ts");
}
