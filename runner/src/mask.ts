// Secret values never leave the runner in clear: every occurrence in what the step writes (its
// log, its stdout/stderr files, its output variable) and in the runner's own notes is replaced
// by MASK. Output arrives in chunks, so a stream holds back a tail that could be the start of a
// secret until the next chunk (or the end) shows whether it is one.

export const MASK = "*****";

export class Masker {
  /** Longest first, so a secret that contains another is masked whole. */
  private readonly secrets: string[];

  constructor(values: Iterable<string>) {
    this.secrets = [...new Set(values)].filter((v) => v !== "").sort((a, b) => b.length - a.length);
  }

  get active(): boolean {
    return this.secrets.length > 0;
  }

  /** `text` with every secret replaced. */
  text(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join(MASK);
    return out;
  }

  /** A masking filter for one stream: `push` chunks, `end` once; `sink` gets masked text in order. */
  stream(sink: (text: string) => void): { push(text: string): void; end(): void } {
    let held = "";
    return {
      push: (chunk: string) => {
        if (!this.active) return chunk && sink(chunk);
        const masked = this.text(held + chunk);
        const keep = this.partialTail(masked);
        held = masked.slice(masked.length - keep);
        const ready = masked.slice(0, masked.length - keep);
        if (ready) sink(ready);
      },
      end: () => {
        if (held) sink(held);
        held = "";
      },
    };
  }

  /** Length of the longest end of `text` that is a proper start of some secret. */
  private partialTail(text: string): number {
    let best = 0;
    for (const s of this.secrets) {
      for (let n = Math.min(s.length - 1, text.length); n > best; n--) {
        if (text.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
