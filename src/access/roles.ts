// Dagu's roles, each a superset of the one below it. What each may do is written once here and
// in the README's roles table; route-roles.ts maps every route to the least role that may call it.

export const ROLES = ["viewer", "operator", "developer", "manager", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** What each role may do on top of the role below it (the README's roles table says the same). */
export const ROLE_CAN: Record<Role, string> = {
  viewer: "read everything: DAGs, runs, logs, outputs, queues, runners, metrics",
  operator:
    "also start, enqueue, stop, retry, reschedule, dequeue and approve or reject runs, set a step's status, suspend schedules",
  developer:
    "also create, edit, rename, validate and delete DAGs, run inline specs, and write contexts and parameter sets",
  manager: "also configure and purge queues, create and revoke runner tokens and webhook tokens, clean up run history",
  admin: "also manage users and API keys",
};

export const isRole = (text: string): text is Role => (ROLES as readonly string[]).includes(text);

/** Whether `role` may do what `least` may. */
export const atLeast = (role: Role, least: Role): boolean => ROLES.indexOf(role) >= ROLES.indexOf(least);
