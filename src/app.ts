// The root Hono app: auth, body limits, sub-apps, and the one place errors become responses.
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requireUser } from "./access/authenticate";
import { requireRole } from "./access/require-role";
import { requireSeparateTokens, requireToken } from "./auth";
import type { Env } from "./env";
import { AppError } from "./errors";
import { MAX_API_BODY_BYTES, MAX_RUNNER_BODY_BYTES, MAX_URL_BYTES, showBytes, utf8Bytes } from "./limits";
import { apiKeysRoute } from "./routes/api-keys";
import { authLogin, authSelf } from "./routes/auth";
import { contextsRoute } from "./routes/contexts";
import { dagRunOfDag, dagRuns } from "./routes/dag-runs";
import { dags } from "./routes/dags";
import { metrics } from "./routes/metrics";
import { openapi } from "./routes/openapi";
import { parameterSetsRoute } from "./routes/parameter-sets";
import { queues } from "./routes/queues";
import { runInputsRoute } from "./routes/run-inputs";
import { runLogs } from "./routes/run-logs";
import { runSteps } from "./routes/run-steps";
import { runnerTokensRoute } from "./routes/runner-tokens";
import { runners } from "./routes/runners";
import { services } from "./routes/services";
import { subDagRuns } from "./routes/sub-dag-runs";
import { system } from "./routes/system";
import { usersRoute } from "./routes/users";
import { webhooksRoute } from "./routes/webhooks";
import { dagWebhookTokens, webhookTrigger } from "./routes/webhooks-in";
import { workers } from "./routes/workers";

const tooLarge = (limit: number) => () => {
  throw new AppError(
    "bad_request",
    413,
    `request body is larger than ${showBytes(limit)}, the limit of a request body`,
  );
};

export const app = new Hono<{ Bindings: Env }>();

// Longer URLs are refused here, in the contract's shape, before anything reads them (the
// platform's own limit, which answers in its own words, is higher).
app.use("*", async (c, next) => {
  const bytes = utf8Bytes(c.req.url);
  if (bytes > MAX_URL_BYTES) {
    throw new AppError(
      "bad_request",
      414,
      `the URL is ${bytes} bytes, over the limit of ${showBytes(MAX_URL_BYTES)} for a URL`,
    );
  }
  await next();
});

const api = new Hono<{ Bindings: Env }>();
api.use("*", requireSeparateTokens());
api.route("/", system);
api.route("/", openapi(api));
api.use("/runners/*", requireToken("runner"));
api.use("/runners/*", bodyLimit({ maxSize: MAX_RUNNER_BODY_BYTES, onError: tooLarge(MAX_RUNNER_BODY_BYTES) }));
api.route("/runners", runners);
// Signing in needs no credential; its body is as limited as any other.
api.use("/auth/login", bodyLimit({ maxSize: MAX_API_BODY_BYTES, onError: tooLarge(MAX_API_BODY_BYTES) }));
api.route("/auth", authLogin);
// An incoming webhook carries a DAG's webhook token, no user credential (its own body limit).
api.route("/webhooks", webhookTrigger);
// Every other route: a user credential, and a role at least the one src/access/route-roles.ts names.
api.use("*", requireUser());
api.use("*", requireRole());
api.use("*", bodyLimit({ maxSize: MAX_API_BODY_BYTES, onError: tooLarge(MAX_API_BODY_BYTES) }));
api.route("/auth", authSelf);
api.route("/users", usersRoute);
api.route("/api-keys", apiKeysRoute);
api.route("/dags", dags);
api.route("/dags", dagRunOfDag);
api.route("/dags", dagWebhookTokens);
api.route("/contexts", contextsRoute);
api.route("/parameter-sets", parameterSetsRoute);
api.route("/dag-runs", dagRuns);
api.route("/dag-runs", runSteps);
api.route("/dag-runs", runLogs);
api.route("/dag-runs", subDagRuns);
api.route("/dag-runs", runInputsRoute);
api.route("/workers", workers);
api.route("/metrics", metrics);
api.route("/runner-tokens", runnerTokensRoute);
api.route("/queues", queues);
api.route("/services", services);
api.route("/outgoing-webhooks", webhooksRoute);

app.route("/api/v2", api);
// Current Dagu serves the same API under /api/v1: clients written for it work unchanged. The
// runner protocol is dagflare's own and stays at one address, so runner tokens have one door.
app.all("/api/v1/runners", runnerProtocolElsewhere);
app.all("/api/v1/runners/*", runnerProtocolElsewhere);
app.route("/api/v1", api);

function runnerProtocolElsewhere(c: Context) {
  return c.json(
    { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}: the runner protocol is under /api/v2` },
    404,
  );
}

app.notFound((c) => c.json({ code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404));

app.onError((err, c) => {
  if (err instanceof AppError) {
    return c.json({ code: err.code, message: err.message, ...(err.details && { details: err.details }) }, err.status);
  }
  // Hono's own 4xx (a malformed JSON body before validation): the contract's shape, its words.
  if (err instanceof HTTPException && err.status < 500) {
    return c.json({ code: "bad_request", message: err.message }, err.status);
  }
  console.error(`${c.req.method} ${c.req.path} failed`, err);
  return c.json({ code: "internal_error", message: "internal error" }, 500);
});
