export const CLI_DIR: string;
export const CLI_BUNDLE: string;
export function buildCli(outdir?: string): Promise<string>;
