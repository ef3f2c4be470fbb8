// The one form of dagflare's created credentials, `<prefix>_<id>_<secret>`: API keys (`dfk`),
// runner tokens (`dfr`) and webhook tokens (`dfw`). The id (12 hex digits) names the stored row,
// so checking one is a primary-key read; only the SHA-256 of the whole text is stored, and
// compared in constant time; the text itself is shown once, at creation.
import { hex, sameHex, sha256 } from "./digest";

/** A credential's id, as a path parameter names it. */
export const SECRET_ID = /^[0-9a-f]{12}$/;

export interface MintedSecret {
  id: string;
  /** The credential to hand over, this once. */
  text: string;
  /** What is stored. */
  hash: string;
}

export function prefixedSecrets(prefix: "dfk" | "dfr" | "dfw") {
  const whole = new RegExp(`^${prefix}_([0-9a-f]{12})_[0-9a-f]{40}$`);
  return {
    /** Whether `text` has this form (it may still be unknown). */
    looksLike: (text: string) => whole.test(text),

    async mint(): Promise<MintedSecret> {
      const id = hex(6);
      const text = `${prefix}_${id}_${hex(20)}`;
      return { id, text, hash: await sha256(text) };
    },

    /**
     * The stored row that `text` is the credential of (`read` fetches a row by id), revoked or
     * not; undefined for any other text, whatever the reason.
     */
    async find<Row extends { hash: string }>(
      text: string,
      read: (id: string) => Promise<Row | undefined>,
    ): Promise<Row | undefined> {
      const id = whole.exec(text)?.[1];
      if (!id) return undefined;
      const row = await read(id);
      return row && (await sameHex(await sha256(text), row.hash)) ? row : undefined;
    },
  };
}
