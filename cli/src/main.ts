// dagflare: the command line of dagflare. `dagflare runner` loads only the runner, so a host's
// long-running runner does not carry the other commands (their argument parser, the live view)
// in memory; every other command loads those.
const argv = process.argv.slice(2);
if (argv[0] === "runner") {
  const { runner } = await import("./commands/runner.ts");
  await runner(argv.slice(1));
} else {
  const { main } = await import("./program.ts");
  await main(argv);
}
