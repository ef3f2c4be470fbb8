// Byte-bounded cuts of text that never split a character: log batches, the log buffer bound
// and captured outputs are all measured in UTF-8 bytes, as the server counts them.

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Splits `text` into a head of at most `maxBytes` bytes and the rest, on a character boundary. */
export function splitUtf8(text: string, maxBytes: number): [head: string, rest: string] {
  if (maxBytes <= 0) return ["", text];
  // Cheap exit: every UTF-16 unit is at most 3 UTF-8 bytes.
  if (text.length * 3 <= maxBytes) return [text, ""];
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return [text, ""];
  let cut = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the character being cut.
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return [bytes.subarray(0, cut).toString("utf8"), bytes.subarray(cut).toString("utf8")];
}

/** Drops at least `minBytes` bytes from the front of `text`, on a character boundary. */
export function dropUtf8Prefix(text: string, minBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  let cut = Math.min(Math.max(0, minBytes), bytes.length);
  while (cut < bytes.length && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut++;
  return bytes.subarray(cut).toString("utf8");
}
