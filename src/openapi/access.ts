// The OpenAPI side of users, roles and API keys: dagflare's /api-keys, what it adds to Dagu's
// GET /auth/me, and the role Dagu's UserRole lacks (developer, as later Dagu releases have).
import { ApiKeyInfo, ApiKeyList, CreateApiKeyRequest, CreateApiKeyResponse } from "../access/api-keys";
import { ROLE_CAN } from "../access/roles";
import { ErrorBody } from "../protocol";
import { Credential } from "../routes/auth";
import { jsonResponse, schema } from "./zod-schema";

type Json = Record<string, any>;

const admin = {
  tags: ["api-keys"],
  security: [{ apiToken: [] }],
};

export function accessPaths(): Record<string, Record<string, Json>> {
  return {
    "/api-keys": {
      get: {
        ...admin,
        summary: "List API keys, revoked ones included (never the keys themselves). Admin role.",
        responses: {
          "200": jsonResponse("The keys, newest first", ApiKeyList),
          default: jsonResponse("Error", ErrorBody),
        },
      },
      post: {
        ...admin,
        summary: "Create an API key with a role; the key is in this response only. Admin role.",
        requestBody: { required: true, content: { "application/json": { schema: schema(CreateApiKeyRequest) } } },
        responses: {
          "201": jsonResponse("Created", CreateApiKeyResponse),
          default: jsonResponse("Error", ErrorBody),
        },
      },
    },
    "/api-keys/{id}": {
      delete: {
        ...admin,
        summary: "Revoke an API key: it is refused at its next call. Admin role.",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": jsonResponse("The revoked key", ApiKeyInfo),
          "404": jsonResponse("No such key", ErrorBody),
          default: jsonResponse("Error", ErrorBody),
        },
      },
    },
    "/auth/me": {
      get: {
        summary:
          "dagflare: also answers for API keys, the operator's token and an open Worker (their `user` has the epoch as its dates), and says which in `credential`.",
        "x-response-properties": { credential: schema(Credential) },
      },
    },
  };
}

/** Dagu's roles plus developer, appended so that Dagu's values keep their places. */
export function extendRoles(schemas: Json): void {
  schemas.UserRole.enum = ["admin", "manager", "operator", "viewer", "developer"];
  schemas.UserRole.description = `dagflare's roles, each able to do what the one before can: ${Object.entries(ROLE_CAN)
    .map(([role, can]) => `${role}: ${can}`)
    .join("; ")}.`;
}
