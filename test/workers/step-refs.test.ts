// Step references through the run engine: the paths a runner reports with a result are what a
// later step's `${id.stdout}` and `${id.stderr}` read, and its exit code what `${id.exitCode}` does.
import { describe, expect, it } from "vitest";
import { complete, createDag, lease, startDag } from "./helpers";

const SPEC = `steps:
  - id: build
    command: make
    continueOn:
      failure: true
  - name: report
    command: tail \${build.stderr} > \${build.stdout}.tail; exit \${build.exitCode}
`;

describe("step references", () => {
  it("give a later step the files and exit code the runner reported for the step it reads", async () => {
    await createDag("step-refs", SPEC);
    await startDag("step-refs");
    const [build] = await lease();
    expect(build).toMatchObject({ stepName: "build" });
    const done = await complete(build, 2, {
      stdoutPath: "/var/log/dagflare-runner/step-refs/r/build.0.1.out",
      stderrPath: "/var/log/dagflare-runner/step-refs/r/build.0.1.err",
      next: { runnerId: "runner-test", max: 1 },
    });
    expect(done.body.next.map((l: { stepName: string }) => l.stepName)).toEqual(["report"]);
    expect(done.body.next[0].exec.command).toBe(
      "tail /var/log/dagflare-runner/step-refs/r/build.0.1.err > /var/log/dagflare-runner/step-refs/r/build.0.1.out.tail; exit 2",
    );
  });
});
