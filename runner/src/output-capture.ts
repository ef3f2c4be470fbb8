// A step's `output` variable: its stdout up to maxOutputBytes, cut on a character boundary.
import { splitUtf8, utf8Bytes } from "./utf8.ts";

export class OutputCapture {
  private text = "";
  private bytes = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  append(chunk: string): void {
    if (this.truncated) return;
    const bytes = utf8Bytes(chunk);
    if (this.bytes + bytes <= this.maxBytes) {
      this.text += chunk;
      this.bytes += bytes;
      return;
    }
    this.text += splitUtf8(chunk, this.maxBytes - this.bytes)[0];
    this.truncated = true;
  }

  /** Trailing newlines and blanks are noise when the value is substituted into later steps. */
  get value(): string {
    return this.text.trimEnd();
  }
}
