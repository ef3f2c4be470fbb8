// The role Dagu's UserRole lacks (developer, as later Dagu releases have), and what each role
// may do, in the document's UserRole schema. The routes of /auth, /users and /api-keys describe
// themselves (route-docs.ts).
import { ROLE_CAN } from "../access/roles";

type Json = Record<string, any>;

/** Dagu's roles plus developer, appended so that Dagu's values keep their places. */
export function extendRoles(schemas: Json): void {
  schemas.UserRole.enum = ["admin", "manager", "operator", "viewer", "developer"];
  schemas.UserRole.description = `dagflare's roles, each able to do what the one before can: ${Object.entries(ROLE_CAN)
    .map(([role, can]) => `${role}: ${can}`)
    .join("; ")}.`;
}
