// dagflare runner ...: the runner (runner/src), in this same process and unchanged in behaviour.
// It is bundled into this package but loaded only here, so the other commands never load it.
export async function runner(args: string[]): Promise<void> {
  const { main } = await import("../../../runner/src/cli.ts");
  await main(args);
}
