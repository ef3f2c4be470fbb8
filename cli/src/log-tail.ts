// Reads a growing log a piece at a time over the REST API. While the log fits the API's
// window the server returns its lines joined by newlines (no newline after the last, as Dagu
// does, with `endsWithNewline` saying whether there was one) and the new part is what follows
// the characters already shown; past the window it is read by line offsets, whole lines only.
import type { LogSlice } from "./api-types.ts";
import type { ApiClient } from "./client.ts";

/** The API's default and largest window, in lines. */
const WINDOW_LINES = 10_000;

export class LogTail {
  private shownChars = 0;
  /** Whole lines shown once the log outgrew one window (line mode). */
  private shownLines: number | undefined;
  private attempt: number | undefined;

  /** `path` is a log endpoint with its query (e.g. `...?stream=stdout`). */
  constructor(
    private readonly client: ApiClient,
    private readonly path: string,
  ) {}

  /**
   * The text written since the last call. `final` once the writer has finished: a last line
   * without its newline is shown too. `restarted` when a new attempt began (the text is its own);
   * `more` when the log holds more than one read returns (call again at once).
   */
  async next(final: boolean): Promise<{ text: string; restarted: boolean; more: boolean }> {
    const sep = this.path.includes("?") ? "&" : "?";
    let restarted = false;
    if (this.shownLines === undefined) {
      const slice = await this.client.get<LogSlice>(this.path);
      restarted = this.newAttempt(slice);
      if (!slice.hasMore) {
        // The log's exact text: the API leaves out the last line's newline and says it was there.
        const exact = slice.endsWithNewline ? `${slice.content}\n` : slice.content;
        const text = exact.slice(this.shownChars);
        this.shownChars = exact.length;
        return { text, restarted, more: false };
      }
      // Outgrew the window: go on from the whole lines shown so far.
      this.shownLines = 0;
      const exact = slice.endsWithNewline ? `${slice.content}\n` : slice.content;
      const shown = exact.slice(0, this.shownChars);
      this.shownLines = shown.split("\n").length - 1;
      this.shownChars = shown.length - (shown.lastIndexOf("\n") + 1);
    }
    const slice = await this.client.get<LogSlice>(
      `${this.path}${sep}offset=${this.shownLines + 1}&limit=${WINDOW_LINES}`,
    );
    if (this.newAttempt(slice)) return this.next(final).then((r) => ({ ...r, restarted: true }));
    const lines = slice.content.split("\n").slice(0, slice.lineCount);
    // The log's last line may still be being written: it waits unless the writer is done.
    const complete = slice.hasMore && this.shownLines + slice.lineCount < slice.totalLines;
    const take = complete || final ? lines.length : Math.max(0, lines.length - 1);
    let text = lines
      .slice(0, take)
      .map((l) => `${l}\n`)
      .join("");
    text = text.slice(this.shownChars);
    if (take > 0) this.shownChars = 0;
    this.shownLines += take;
    return { text, restarted, more: complete };
  }

  private newAttempt(slice: LogSlice): boolean {
    const changed = this.attempt !== undefined && slice.attempt !== undefined && slice.attempt !== this.attempt;
    this.attempt = slice.attempt ?? this.attempt;
    if (changed) {
      this.shownChars = 0;
      this.shownLines = undefined;
    }
    return changed;
  }
}
