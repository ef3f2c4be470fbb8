export function startDirectWorker(opts: {
  port: number;
  persistTo?: string;
  vars?: Record<string, string>;
  inspectorPort?: number;
}): Promise<{ url: string; bundle: string; stop: () => Promise<void> }>;
