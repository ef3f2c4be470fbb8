// Sign-in attempts are limited per user name and per client address, so that a password cannot
// be guessed faster than SIGN_IN_MAX_ATTEMPTS per SIGN_IN_WINDOW_MS. An attempt is counted
// BEFORE its password is checked, in one statement per key: a burst of parallel guesses cannot
// all pass the check while the first ones are still hashing. A success gives its attempt back
// (and clears the user name's count); a refused attempt is counted too, but the window does not
// move, so a lock ends when its window does. Unknown user names are counted exactly like known
// ones: a 429 says nothing about whether a user exists.
import { inArray, sql } from "drizzle-orm";
import { db } from "../db/queries";
import { signInAttempts } from "../db/schema";

export const SIGN_IN_MAX_ATTEMPTS = 5;
export const SIGN_IN_WINDOW_MS = 15 * 60_000;

/** The keys one sign-in is counted under; the address only where the platform gives one. */
export function signInKeys(username: string, clientAddress: string | undefined): string[] {
  // User names are compared as written (the users table is), but a lock should not be dodged
  // by changing the case of a name.
  const keys = [`user:${username.toLowerCase()}`];
  if (clientAddress) keys.push(`addr:${clientAddress}`);
  return keys;
}

/**
 * Counts one attempt under each key. Answers the seconds until the caller may try again when
 * a key is past its limit (the attempt is then refused without checking the password), else
 * undefined.
 */
export async function countAttempt(d1: D1Database, keys: string[], now = Date.now()): Promise<number | undefined> {
  const expired = sql`${signInAttempts.windowStartAt} <= ${now - SIGN_IN_WINDOW_MS}`;
  const statements = keys.map((key) =>
    db(d1)
      .insert(signInAttempts)
      .values({ key, attempts: 1, windowStartAt: now })
      .onConflictDoUpdate({
        target: signInAttempts.key,
        set: {
          attempts: sql`CASE WHEN ${expired} THEN 1 ELSE ${signInAttempts.attempts} + 1 END`,
          windowStartAt: sql`CASE WHEN ${expired} THEN ${now} ELSE ${signInAttempts.windowStartAt} END`,
        },
      })
      .returning(),
  );
  // Windows that ended are forgotten here, so the table holds at most one window's attempts.
  const prune = db(d1).delete(signInAttempts).where(expired);
  const results = await db(d1).batch([prune, ...statements]);
  const rows = results.slice(1).flat() as Array<typeof signInAttempts.$inferSelect>;
  let waitMs = 0;
  for (const row of rows) {
    if (row.attempts > SIGN_IN_MAX_ATTEMPTS) waitMs = Math.max(waitMs, row.windowStartAt + SIGN_IN_WINDOW_MS - now);
  }
  return waitMs > 0 ? Math.ceil(waitMs / 1000) : undefined;
}

/**
 * A successful sign-in: the user name starts afresh; the address gets this attempt back but keeps
 * its failures, or one account's owner could clear them between guesses at other accounts.
 */
export async function signedIn(d1: D1Database, keys: string[]): Promise<void> {
  const [userKey, ...addressKeys] = keys;
  const d = db(d1);
  const clearUser = d.delete(signInAttempts).where(inArray(signInAttempts.key, userKey ? [userKey] : []));
  const giveBack = addressKeys.map((key) =>
    d
      .update(signInAttempts)
      .set({ attempts: sql`MAX(${signInAttempts.attempts} - 1, 0)` })
      .where(sql`${signInAttempts.key} = ${key}`),
  );
  await d.batch([clearUser, ...giveBack]);
}
