// The body of POST /webhooks/{fileName}, read as current Dagu reads it: a JSON object with a
// `payload` field gives that field as the run's WEBHOOK_PAYLOAD param (and may name the run with
// `dagRunId`, so a sender's retry does not start a second run); any other JSON body is the
// payload whole. An empty body is `{}`. PURE.
import { AppError } from "../errors";

export const WEBHOOK_PARAM = "WEBHOOK_PAYLOAD";

export interface WebhookStart {
  /** The payload as compact JSON text. */
  payload: string;
  dagRunId?: string;
}

export function readWebhookBody(text: string): WebhookStart {
  if (text.trim() === "") return { payload: "{}" };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new AppError("bad_request", 400, `the body is not valid JSON: ${(err as Error).message}`, { field: "body" });
  }
  if (body === null || typeof body !== "object" || Array.isArray(body) || !("payload" in body)) {
    return { payload: JSON.stringify(body) };
  }
  const { payload, dagRunId } = body as { payload: unknown; dagRunId?: unknown };
  if (dagRunId !== undefined && typeof dagRunId !== "string") {
    throw new AppError("bad_request", 400, "dagRunId: must be a string", { field: "dagRunId" });
  }
  return { payload: JSON.stringify(payload ?? {}), ...(dagRunId && { dagRunId }) };
}
