// Mail when a run finishes (mailOn), from the Worker to real SMTP servers on 127.0.0.1, for
// runs of real runners.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Received, startSmtp, type TestSmtp } from "../support/smtp-server";
import { runEnded, type Stack, startDagRun, startStack, waitFor } from "./harness";

let stack: Stack;
let operatorSmtp: TestSmtp;
let teamSmtp: TestSmtp;
let tlsSmtp: TestSmtp;

beforeAll(async () => {
  operatorSmtp = await startSmtp();
  teamSmtp = await startSmtp({ password: "team-secret-password" });
  tlsSmtp = await startSmtp({ starttls: true });
  stack = await startStack({
    runners: ["mail-runner"],
    vars: {
      DAGFLARE_SMTP_HOST: "127.0.0.1",
      DAGFLARE_SMTP_PORT: String(operatorSmtp.port),
      DAGFLARE_SMTP_FROM: "dagflare@example.test",
      SMTP_TEAM_PASSWORD: "team-secret-password",
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([operatorSmtp?.stop(), teamSmtp?.stop(), tlsSmtp?.stop()]);
});

/** The text of each base64 part of a received message: the body first, then attachments. */
function partsOf(m: Received): string[] {
  return m.data
    .split(/\r\n--dagflare-[A-Za-z0-9]+(?:--)?\r\n|\r\n\r\n/)
    .filter((p) => /^[A-Za-z0-9+/=\r\n]+$/.test(p.trim()) && p.trim().length > 0)
    .map((p) => Buffer.from(p.replace(/\r\n/g, ""), "base64").toString("utf8"));
}

const subjectOf = (m: Received) => /^Subject: (.*)$/m.exec(m.data)?.[1]?.trim();

async function notifications(name: string, runId: string) {
  const r = await stack.api("GET", `/dag-runs/${name}/${runId}`);
  return r.body.dagRunDetails.notifications as any[] | undefined;
}

describe("mail when a run finishes", () => {
  it("mails a failed run's error mail, with each step's status and logs, through the operator's server", async () => {
    const spec = [
      "mailOn: { failure: true }",
      "errorMail: { to: [oncall@example.test, lead@example.test], prefix: '[Error]', attachLogs: true }",
      "steps:",
      "  - name: extract",
      "    command: echo extracted 42 rows",
      "  - name: load",
      "    command: sh -c 'echo the table is locked >&2; exit 3'",
      "",
    ].join("\n");
    const runId = await startDagRun(stack, "mail-fail", spec);
    expect((await runEnded(stack, "mail-fail", runId)).statusLabel).toBe("failed");
    const m = await operatorSmtp.waitFor((r) => r.data.includes(runId));
    expect(subjectOf(m)).toBe("[Error] mail-fail (failed)");
    expect(m.from).toBe("dagflare@example.test");
    expect(m.to).toEqual(["oncall@example.test", "lead@example.test"]);
    const [body, ...attachments] = partsOf(m);
    expect(body).toContain(`Run:      ${runId}`);
    expect(body).toContain("Status:   failed");
    expect(body).toContain("extract: succeeded (exit code 0)");
    expect(body).toContain("load: failed (exit code 3)");
    expect(attachments.join("\n")).toContain("extracted 42 rows");
    expect(attachments.join("\n")).toContain("the table is locked");
    const sent = await waitFor("the mail's status", async () => {
      const n = await notifications("mail-fail", runId);
      return n?.[0]?.status === "sent" ? n : undefined;
    });
    expect(sent).toEqual([
      expect.objectContaining({
        kind: "errorMail",
        status: "sent",
        attempts: 1,
        subject: "[Error] mail-fail (failed)",
      }),
    ]);
  });

  it("sends no error mail for a run that succeeds", async () => {
    const spec = "mailOn: { failure: true }\nerrorMail: { to: oncall@example.test }\nsteps:\n  - echo fine\n";
    const runId = await startDagRun(stack, "mail-quiet", spec);
    expect((await runEnded(stack, "mail-quiet", runId)).statusLabel).toBe("succeeded");
    expect(await notifications("mail-quiet", runId)).toBeUndefined();
  });

  it("mails a succeeded run's info mail through the DAG's own server, with the password from a Worker secret", async () => {
    const spec = [
      "mailOn: { success: true }",
      `smtp: { host: 127.0.0.1, port: ${teamSmtp.port}, username: alerts, password: "\${SMTP_TEAM_PASSWORD}" }`,
      "infoMail: { from: team@example.test, to: team@example.test, prefix: '[Info]' }",
      "steps:",
      "  - echo done",
      "",
    ].join("\n");
    const runId = await startDagRun(stack, "mail-info", spec);
    expect((await runEnded(stack, "mail-info", runId)).statusLabel).toBe("succeeded");
    const m = await teamSmtp.waitFor((r) => r.data.includes(runId));
    expect(subjectOf(m)).toBe("[Info] mail-info (succeeded)");
    expect(m.user).toBe("alerts");
    expect(teamSmtp.auths.map((a) => a.password)).toEqual(["team-secret-password"]);
    const answers = [
      await stack.api("GET", "/dags/mail-info/spec"),
      await stack.api("GET", "/dags/mail-info"),
      await stack.api("GET", `/dag-runs/mail-info/${runId}`),
    ];
    for (const a of answers) expect(JSON.stringify(a.body)).not.toContain("team-secret-password");
  });

  it("records a refused send in the run's details and sends it again at its next attempt", async () => {
    operatorSmtp.refuseNext(1);
    const spec = "mailOn: { failure: true }\nerrorMail: { to: oncall@example.test }\nsteps:\n  - exit 1\n";
    const runId = await startDagRun(stack, "mail-retry", spec);
    await runEnded(stack, "mail-retry", runId);
    const refused = await waitFor("the refused attempt", async () => {
      const n = await notifications("mail-retry", runId);
      return n?.[0]?.attempts === 1 ? n[0] : undefined;
    });
    expect(refused).toMatchObject({ status: "pending", lastError: expect.stringMatching(/answered 451/) });
    expect(Date.parse(refused.nextAttemptAt)).toBeGreaterThan(Date.now() - 5_000);
    await operatorSmtp.waitFor((r) => r.data.includes(runId));
    const sent = await waitFor("the second attempt", async () => {
      const n = await notifications("mail-retry", runId);
      return n?.[0]?.status === "sent" ? n[0] : undefined;
    });
    expect(sent.attempts).toBe(2);
  });

  it("upgrades to TLS when the server offers STARTTLS, and records a certificate the runtime does not trust as a failed attempt", async () => {
    const spec = [
      "mailOn: { failure: true }",
      `smtp: { host: 127.0.0.1, port: ${tlsSmtp.port} }`,
      "errorMail: { to: oncall@example.test }",
      "steps:",
      "  - exit 1",
      "",
    ].join("\n");
    const runId = await startDagRun(stack, "mail-tls", spec);
    await runEnded(stack, "mail-tls", runId);
    const failed = await waitFor("the TLS attempt", async () => {
      const n = await notifications("mail-tls", runId);
      return (n?.[0]?.attempts ?? 0) >= 1 ? n?.[0] : undefined;
    });
    expect(failed.lastError).toMatch(/TLS/);
    expect(tlsSmtp.received).toEqual([]);
  });
});
