export const PLACEHOLDER_DB_ID: string;
export const REQUIRED_SECRETS: string[];
export function deployTarget(
  tomlText: string,
  env: string,
): { ok: true; worker: string; database: string } | { ok: false; message: string };
export function missingSecrets(secrets: Array<{ name: string }>): string[];
