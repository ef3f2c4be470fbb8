import { describe, expect, it } from "vitest";
import { parseDag } from "../../../src/dag/parse";
import { formatIssue } from "../../../src/dag/types";

const steps = "steps:\n  - echo hi\n";

function mailOf(yaml: string) {
  const r = parseDag(`${yaml}\n${steps}`, { name: "m" });
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
  return r.dag.mail;
}

function errorsOf(yaml: string): string[] {
  const r = parseDag(`${yaml}\n${steps}`, { name: "m" });
  return r.ok ? [] : r.errors.map(formatIssue);
}

describe("mail keys", () => {
  it("reads Dagu's mailOn, smtp, errorMail and infoMail", () => {
    const yaml = [
      "mailOn: { failure: true, success: true }",
      'smtp: { host: smtp.example.com, port: "587", username: alerts, password: "${SMTP_PASSWORD}" }',
      "errorMail: { from: dagflare@example.com, to: [oncall@example.com, lead@example.com], prefix: '[Error]', attachLogs: true }",
      "infoMail: { to: team@example.com }",
    ].join("\n");
    expect(mailOf(yaml)).toEqual({
      on: { failure: true, success: true },
      smtp: { host: "smtp.example.com", port: 587, username: "alerts", passwordSecret: "SMTP_PASSWORD" },
      errorMail: {
        from: "dagflare@example.com",
        to: ["oncall@example.com", "lead@example.com"],
        prefix: "[Error]",
        attachLogs: true,
      },
      infoMail: { to: ["team@example.com"], attachLogs: false },
    });
  });

  it("reads the snake_case spellings of current Dagu", () => {
    const mail = mailOf("mail_on: { failure: true }\nerror_mail: { to: a@example.com, attach_logs: true }");
    expect(mail?.errorMail).toEqual({ to: ["a@example.com"], attachLogs: true });
  });

  it("leaves a DAG without mail keys without mail", () => {
    expect(mailOf("name: m")).toBeUndefined();
  });

  it("refuses a password written in the DAG, naming the field and the way to give one", () => {
    expect(errorsOf("smtp: { host: smtp.example.com, password: hunter2hunter2 }")).toEqual([
      expect.stringMatching(
        /^line 1, smtp.password: smtp.password must name a Worker secret, as "\$\{SMTP_PASSWORD\}"/,
      ),
    ]);
  });

  it("refuses a reference to a Worker secret whose name does not start with SMTP_", () => {
    expect(errorsOf('smtp: { password: "${DAGFLARE_API_TOKEN}" }')).toHaveLength(1);
  });

  it("refuses mailOn.failure without recipients in errorMail", () => {
    expect(errorsOf("mailOn: { failure: true }")).toEqual([
      "line 1, mailOn.failure: mailOn.failure sends errorMail: give its recipients in errorMail.to",
    ]);
  });

  it.each([
    ["errorMail: { to: 'a@example.com\\r\\nRCPT TO:<b@example.com>' }", "errorMail.to"],
    ["errorMail: { to: [ok@example.com, 'not an address'] }", "errorMail.to[1]"],
    ['errorMail: { to: a@example.com, prefix: "two\\nlines" }', "errorMail.prefix"],
    ["smtp: { host: 'smtp.example.com\\r\\n' }", "smtp.host"],
    ["smtp: { port: 70000 }", "smtp.port"],
    ["errorMail: { to: a@example.com, colour: red }", "errorMail.colour"],
  ])("refuses %s at its field", (yaml, field) => {
    const errors = errorsOf(yaml);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`line 1, ${field}:`);
  });

  it("refuses more recipients than the limit", () => {
    const to = Array.from({ length: 51 }, (_, i) => `u${i}@example.com`).join(", ");
    expect(errorsOf(`errorMail: { to: [${to}] }`)).toEqual([
      "line 1, errorMail.to: 51 recipients, over the limit of 50",
    ]);
  });
});
