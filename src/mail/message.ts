// The mail of a finished run as RFC 5322 text: the DAG, the run, its status and each step's,
// and with `attachLogs` each step's log (its last part, within MAX_MAIL_LOG_BYTES_PER_STEP and
// MAX_MAIL_LOG_BYTES) as a text attachment. PURE.

/** What a mail says about a run, taken when the run finished. */
export interface RunReport {
  dagName: string;
  runId: string;
  status: string;
  startedAt?: number;
  finishedAt: number;
  steps: Array<{ name: string; status: string; exitCode?: number | null; error?: string }>;
}

export interface StepLogText {
  step: string;
  text: string;
  /** The log was longer: only its end is attached. */
  cut: boolean;
}

/** The end of one step's log attached to a mail. */
export const MAX_MAIL_LOG_BYTES_PER_STEP = 256 * 1024;
/** All logs attached to one mail together. */
export const MAX_MAIL_LOG_BYTES = 4 * 1024 * 1024;

/** Dagu's subject: the prefix, the DAG's name and the status in brackets. */
export function subjectOf(prefix: string | undefined, report: RunReport): string {
  return [prefix, report.dagName, `(${report.status})`].filter((x) => x).join(" ");
}

export function composeMail(input: {
  from: string;
  to: string[];
  subject: string;
  report: RunReport;
  logs: StepLogText[];
  messageId: string;
  now: number;
}): string {
  const { report } = input;
  const body = bodyOf(report, input.logs);
  const headers = [
    `From: ${input.from}`,
    `To: ${input.to.join(", ")}`,
    `Subject: ${encodeHeader(input.subject)}`,
    `Date: ${new Date(input.now).toUTCString()}`,
    `Message-ID: <${input.messageId}>`,
    "MIME-Version: 1.0",
    "Auto-Submitted: auto-generated",
  ];
  if (!input.logs.length) {
    return [...headers, ...textPart(body), ""].join("\r\n");
  }
  const boundary = `dagflare-${input.messageId.replace(/[^A-Za-z0-9]/g, "")}`;
  const parts = [
    [`--${boundary}`, ...textPart(body)],
    ...input.logs.map((l) => [
      `--${boundary}`,
      `Content-Type: text/plain; charset=utf-8; name="${fileName(l.step)}"`,
      `Content-Disposition: attachment; filename="${fileName(l.step)}"`,
      "Content-Transfer-Encoding: base64",
      "",
      ...base64Lines(l.text),
    ]),
  ];
  return [
    ...headers,
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    "",
    ...parts.flat(),
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

function bodyOf(report: RunReport, logs: StepLogText[]): string {
  const time = (ms?: number) => (ms === undefined ? "-" : new Date(ms).toISOString());
  const lines = [
    `DAG:      ${report.dagName}`,
    `Run:      ${report.runId}`,
    `Status:   ${report.status}`,
    `Started:  ${time(report.startedAt)}`,
    `Finished: ${time(report.finishedAt)}`,
    "",
    "Steps:",
    ...report.steps.map((s) => {
      const exit = s.exitCode !== undefined && s.exitCode !== null ? ` (exit code ${s.exitCode})` : "";
      const error = s.error ? `: ${s.error.split("\n")[0]}` : "";
      return `  ${s.name}: ${s.status}${exit}${error}`;
    }),
  ];
  const cut = logs.filter((l) => l.cut).map((l) => l.step);
  if (cut.length) lines.push("", `Only the end of these steps' logs is attached: ${cut.join(", ")}.`);
  return `${lines.join("\n")}\n`;
}

/** The body in base64: any text, any line length, and no line a server could read as the end. */
function textPart(body: string): string[] {
  return ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", ...base64Lines(body)];
}

function fileName(step: string): string {
  return `${step.replace(/[^A-Za-z0-9._-]/g, "_")}.log`;
}

function base64Lines(text: string): string[] {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).match(/.{1,76}/g) ?? [""];
}

/** A header value: as is in ASCII, else RFC 2047's UTF-8 base64 words. */
function encodeHeader(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a line break would start a new header
  const oneLine = value.replace(/[\u0000-\u001f\u007f]/g, " ");
  if (/^[\x20-\x7e]*$/.test(oneLine)) return oneLine;
  // Each encoded word holds whole characters (at most 10, 40 bytes), as RFC 2047 asks.
  const chars = Array.from(oneLine);
  const words: string[] = [];
  for (let i = 0; i < chars.length; i += 10)
    words.push(`=?UTF-8?B?${base64Lines(chars.slice(i, i + 10).join("")).join("")}?=`);
  return words.join(" ");
}

/** The end of a log within `maxBytes` of UTF-8, starting at a line where it can. */
export function tailOf(text: string, maxBytes: number): StepLogText["text"] {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= maxBytes) return text;
  const end = new TextDecoder().decode(bytes.slice(bytes.length - maxBytes)).replace(/^\uFFFD+/, "");
  const nl = end.indexOf("\n");
  return nl !== -1 && nl < end.length - 1 ? end.slice(nl + 1) : end;
}
