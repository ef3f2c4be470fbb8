// The user steps run as. A step running as the runner's own user can read what the runner can
// (its token file, and as root its memory); a step running as another, unprivileged user
// cannot. The runner therefore refuses to start as root unless told whom to run steps as.
import { spawnSync } from "node:child_process";
import { UsageError } from "./config.ts";

export interface StepUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** The passwd entry of `nameOrUid`, through NSS (`getent`), so LDAP and the like work too. */
export function lookUpUser(nameOrUid: string): StepUser {
  const r = spawnSync("getent", ["passwd", nameOrUid], { encoding: "utf8" });
  if (r.error) throw new UsageError(`--run-as ${nameOrUid}: cannot look users up (getent: ${r.error.message})`);
  const [name, , uid, gid, , home] = r.stdout.split("\n")[0]?.split(":") ?? [];
  if (r.status !== 0 || !name || uid === undefined || gid === undefined) {
    throw new UsageError(`--run-as ${nameOrUid}: no such user on this host`);
  }
  return { name, uid: Number(uid), gid: Number(gid), home: home || "/" };
}

/**
 * Whom steps run as, given --run-as and the runner's own uid: undefined for the runner's own
 * user. `warn` is told when steps will run as root.
 */
export function chooseStepUser(
  runAs: string | undefined,
  ownUid: number,
  warn: (line: string) => void,
): StepUser | undefined {
  if (runAs === undefined) {
    if (ownUid !== 0) return undefined;
    throw new UsageError(
      "the runner runs as root and no --run-as was given: steps running as root could read the runner's token and memory. Give --run-as USER (an unprivileged user), or --run-as root to accept that",
    );
  }
  const user = lookUpUser(runAs);
  if (user.uid === 0) {
    warn("steps run as root (--run-as root): a step can read the runner's token file and memory");
  }
  if (user.uid === ownUid) return undefined;
  if (ownUid !== 0) {
    throw new UsageError(`--run-as ${runAs}: only a runner started as root can run steps as another user`);
  }
  return user;
}
