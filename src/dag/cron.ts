// Cron expressions as Dagu writes them: five fields, optionally prefixed with `CRON_TZ=<zone>`
// (the zone the fields are read in; UTC otherwise). PURE: no timers are started here, croner
// is only asked for the next and previous matching times.
import { Cron } from "croner";

export interface CronSpec {
  /** The expression as written, prefix included (what the API shows). */
  expression: string;
  /** The five fields. */
  fields: string;
  /** IANA time zone the fields are read in. */
  timeZone: string;
}

const TZ_PREFIX = /^CRON_TZ=(\S+)\s+(.*)$/;

/** Parses one expression, or returns why it is not one. */
export function parseCron(expression: string): { ok: true; spec: CronSpec } | { ok: false; message: string } {
  const text = expression.trim();
  const m = TZ_PREFIX.exec(text);
  const timeZone = m?.[1] ?? "UTC";
  const fields = (m?.[2] ?? text).trim().split(/\s+/).join(" ");
  if (text.startsWith("CRON_TZ") && !m) {
    return { ok: false, message: `"${expression}": CRON_TZ= must be followed by a zone and five fields` };
  }
  if (!isTimeZone(timeZone)) return { ok: false, message: `"${expression}": unknown time zone "${timeZone}"` };
  if (fields.split(" ").length !== 5) {
    return {
      ok: false,
      message: `"${expression}": a schedule needs exactly five fields (minute hour day month weekday)`,
    };
  }
  try {
    cronOf({ expression: text, fields, timeZone });
  } catch (err) {
    return { ok: false, message: `"${expression}": ${(err as Error).message}` };
  }
  return { ok: true, spec: { expression: text, fields, timeZone } };
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    // RangeError: the runtime does not know this zone.
    return false;
  }
}

function cronOf(spec: CronSpec): Cron {
  // Vixie cron's rule: when both day fields are restricted, either may match (croner's default).
  return new Cron(spec.fields, { timezone: spec.timeZone, mode: "5-part" });
}

/** The earliest time strictly after `afterMs` that any of the specs matches, or null. */
export function nextFireAt(specs: CronSpec[], afterMs: number): number | null {
  let best: number | null = null;
  for (const spec of specs) {
    const next = cronOf(spec).nextRun(new Date(afterMs))?.getTime();
    if (next !== undefined && (best === null || next < best)) best = next;
  }
  return best;
}

/** The latest time strictly before `beforeMs` that any of the specs matches, or null. */
export function previousFireAt(specs: CronSpec[], beforeMs: number): number | null {
  let best: number | null = null;
  for (const spec of specs) {
    const prev = cronOf(spec).previousRuns(1, new Date(beforeMs))[0]?.getTime();
    if (prev !== undefined && prev < beforeMs && (best === null || prev > best)) best = prev;
  }
  return best;
}
