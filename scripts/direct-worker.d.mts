export function startDirectWorker(opts: {
  port: number;
  persistTo?: string;
  vars?: Record<string, string>;
}): Promise<{ url: string; stop: () => Promise<void> }>;
