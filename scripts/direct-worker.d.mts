export function startDirectWorker(opts: {
  port: number;
  persistTo?: string;
  vars?: Record<string, string>;
  inspectorPort?: number;
  log?: (line: string) => void;
}): Promise<{ url: string; bundle: string; stop: () => Promise<void> }>;
