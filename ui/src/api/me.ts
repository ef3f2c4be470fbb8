// Who is signed in and what their role lets them do, from GET /auth/me. The server decides
// (every route has a least role); the UI only hides what the role cannot use.
import { useQuery } from "@tanstack/react-query";
import { api } from "./client";

/** The server's roles, each able to do what the one before can (README, roles table). */
export const ROLES = ["viewer", "operator", "developer", "manager", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface Me {
  user: { id: string; username: string; role: Role };
  credential: "session" | "api-key" | "operator-token" | "open";
}

export const meKey = ["auth", "me"] as const;

export function useMe() {
  return useQuery({ queryKey: meKey, queryFn: () => api.get<Me>("/auth/me"), staleTime: 60_000 });
}

/** Whether the signed-in caller has at least `least`; false until /auth/me has answered. */
export function useCan(least: Role): boolean {
  const me = useMe().data;
  return me !== undefined && ROLES.indexOf(me.user.role) >= ROLES.indexOf(least);
}
