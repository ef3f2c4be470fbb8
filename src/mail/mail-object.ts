// MailObject: the mail of one run (one object per run id). A finished run hands its mail over
// (`enqueue`, idempotent, storage only: it never waits on SMTP); the object's alarm sends it
// over a TCP socket and retries a failed send with backoff up to MAIL_MAX_ATTEMPTS. Each
// attempt's outcome is kept and shown in the run's details (`list`). The SMTP password is read
// from the Worker's secrets at each attempt and never stored. Removing the run removes its mail
// (`destroy`, from src/run/retention.ts).
import { connect } from "cloudflare:sockets";
import { DurableObject } from "cloudflare:workers";
import { asc, eq, isNotNull, min } from "drizzle-orm";
import migrations from "../../migrations/do/mail/migrations.js";
import type { MailConfig, MailDef } from "../dag/types";
import { openStorage, wipeStorage } from "../do-storage";
import type { Env } from "../env";
import { runStub } from "../stubs";
import {
  composeMail,
  MAX_MAIL_LOG_BYTES,
  MAX_MAIL_LOG_BYTES_PER_STEP,
  type RunReport,
  type StepLogText,
  subjectOf,
  tailOf,
} from "./message";
import * as schema from "./schema";
import { type Connect, isLoopbackHost, type SmtpOptions, sendMail } from "./smtp";

/** Attempts of one mail before it is given up (the last about 40 minutes after the first). */
export const MAIL_MAX_ATTEMPTS = 10;
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 3_600_000;
/** Each step of an SMTP dialogue (connecting, each reply). */
const SMTP_TIMEOUT_MS = 30_000;
/** Log lines read per step and stream before the byte limits cut them. */
const LOG_TAIL_LINES = 5_000;

export type MailKind = "errorMail" | "infoMail";

export interface MailJob {
  kind: MailKind;
  report: RunReport;
  mail: MailDef;
}

/** What the run's details show of a mail (dagflare's `notifications`). */
export interface MailStatus {
  kind: MailKind;
  to: string[];
  subject: string;
  status: "pending" | "sent" | "failed";
  attempts: number;
  lastError?: string;
  sentAt?: string;
  nextAttemptAt?: string;
}

export class MailObject extends DurableObject<Env> {
  private db;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = openStorage(ctx, schema, migrations);
  }

  /** Stores a mail to send; the same finish told twice is one mail. */
  async enqueue(job: MailJob, now = Date.now()): Promise<void> {
    const id = `${job.report.finishedAt}:${job.kind}`;
    this.db
      .insert(schema.mails)
      .values({ id, job: JSON.stringify(job), nextAt: now, createdAt: now })
      .onConflictDoNothing()
      .run();
    await this.arm();
  }

  /** The run was removed (retention or cleanup): its mail goes with it, sent or not. */
  async destroy(): Promise<void> {
    await wipeStorage(this.ctx, this.db, migrations);
  }

  list(): MailStatus[] {
    return this.db
      .select()
      .from(schema.mails)
      .orderBy(asc(schema.mails.createdAt))
      .all()
      .map((row) => {
        const job = JSON.parse(row.job) as MailJob;
        const config = job.mail[job.kind];
        const status: MailStatus = {
          kind: job.kind,
          to: config?.to ?? [],
          subject: subjectOf(config?.prefix, job.report),
          status: row.sentAt !== null ? "sent" : row.nextAt === null ? "failed" : "pending",
          attempts: row.attempts,
        };
        if (row.lastError !== null) status.lastError = row.lastError;
        if (row.sentAt !== null) status.sentAt = new Date(row.sentAt).toISOString();
        if (row.nextAt !== null) status.nextAttemptAt = new Date(row.nextAt).toISOString();
        return status;
      });
  }

  override async alarm(): Promise<void> {
    const due = this.db.select().from(schema.mails).where(isNotNull(schema.mails.nextAt)).all();
    const now = Date.now();
    for (const row of due) {
      if (row.nextAt === null || row.nextAt > now) continue;
      const attempts = row.attempts + 1;
      let error: string | undefined;
      try {
        await this.send(JSON.parse(row.job) as MailJob, row.id);
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      const at = Date.now();
      const retryAt =
        attempts < MAIL_MAX_ATTEMPTS ? at + Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS) : null;
      this.db
        .update(schema.mails)
        .set(
          error === undefined
            ? { attempts, sentAt: at, nextAt: null, lastError: null }
            : { attempts, nextAt: retryAt, lastError: error },
        )
        .where(eq(schema.mails.id, row.id))
        .run();
      if (error !== undefined) {
        const what = retryAt === null ? "given up" : `next attempt at ${new Date(retryAt).toISOString()}`;
        console.error(`run ${JSON.parse(row.job).report.runId}: mail attempt ${attempts} failed (${what}): ${error}`);
      }
    }
    await this.arm();
  }

  /** The alarm at the earliest mail due, or none. */
  private async arm(): Promise<void> {
    const next = this.db
      .select({ at: min(schema.mails.nextAt) })
      .from(schema.mails)
      .get()?.at;
    if (next === null || next === undefined) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  private async send(job: MailJob, id: string): Promise<void> {
    const config = job.mail[job.kind];
    if (!config?.to.length) throw new Error(`${job.kind}.to names no recipient`);
    const smtp = smtpSettings(this.env, job.mail);
    const from = config.from ?? this.env.DAGFLARE_SMTP_FROM;
    if (!from) throw new Error(`no sender: give ${job.kind}.from in the DAG or set DAGFLARE_SMTP_FROM`);
    const logs = config.attachLogs ? await this.logsOf(job.report) : [];
    const data = composeMail({
      from,
      to: config.to,
      subject: subjectOf(config.prefix, job.report),
      report: job.report,
      logs,
      messageId: `${job.report.runId}.${id.replace(/:/g, ".")}@dagflare`,
      now: Date.now(),
    });
    await sendMail(connect as unknown as Connect, smtp, { from, to: config.to, data });
  }

  /** The end of each step's log (stdout, then stderr), within the mail's limits. */
  private async logsOf(report: RunReport): Promise<StepLogText[]> {
    const run = runStub(this.env, report.runId);
    const logs: StepLogText[] = [];
    let budget = MAX_MAIL_LOG_BYTES;
    for (const step of report.steps) {
      if (budget <= 0) break;
      if (step.status === "not_started" || step.status === "skipped") continue;
      const read = async (stream: "stdout" | "stderr") => {
        const o = await run.stepLog(step.name, stream, { tail: LOG_TAIL_LINES });
        return o.ok ? o.value : undefined;
      };
      const [out, err] = [await read("stdout"), await read("stderr")];
      const whole = [out?.content ?? "", err?.content ? `--- stderr ---\n${err.content}` : ""]
        .filter((x) => x)
        .join("\n");
      const limit = Math.min(MAX_MAIL_LOG_BYTES_PER_STEP, budget);
      const text = tailOf(whole, limit);
      const cut =
        text.length < whole.length || !!out?.hasMore || !!err?.hasMore || (out?.totalLines ?? 0) > LOG_TAIL_LINES;
      budget -= new TextEncoder().encode(text).length;
      logs.push({ step: step.name, text, cut });
    }
    return logs;
  }
}

/**
 * Where to send: the DAG's `smtp` when it names a host (its own user name and password secret
 * only: the operator's credentials never go to a host a DAG chose), else the operator's
 * DAGFLARE_SMTP_* settings.
 */
export function smtpSettings(env: Env, mail: MailDef): SmtpOptions {
  const own = mail.smtp?.host !== undefined;
  const host = own ? mail.smtp?.host : env.DAGFLARE_SMTP_HOST;
  if (!host) throw new Error("no SMTP server: give smtp.host in the DAG or set DAGFLARE_SMTP_HOST");
  const port = mail.smtp?.port ?? (own ? undefined : Number(env.DAGFLARE_SMTP_PORT || 0) || undefined) ?? 587;
  const username = own ? mail.smtp?.username : (mail.smtp?.username ?? env.DAGFLARE_SMTP_USERNAME);
  const secret = mail.smtp?.passwordSecret;
  const password = secret ? secretNamed(env, secret) : own ? undefined : env.DAGFLARE_SMTP_PASSWORD;
  if (secret && password === undefined) throw new Error(`the Worker has no secret ${secret} (smtp.password)`);
  return {
    host,
    port,
    tls: port === 465 ? "implicit" : "starttls",
    plainAllowed: isLoopbackHost(host),
    ...(username && password !== undefined && { credentials: { username, password } }),
    timeoutMs: SMTP_TIMEOUT_MS,
    clientName: "dagflare",
  };
}

function secretNamed(env: Env, name: string): string | undefined {
  const value = (env as unknown as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}

export type { MailConfig };
