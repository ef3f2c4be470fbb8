import { describe, expect, it } from "vitest";
import { MASK, Masker } from "../../runner/src/mask.ts";

describe("Masker", () => {
  it("replaces every occurrence of every secret, the longer first", () => {
    const m = new Masker(["s3cret", "s3cret-long", ""]);
    expect(m.text("a s3cret b s3cret-long c")).toBe(`a ${MASK} b ${MASK} c`);
  });

  it("masks a secret split across chunks at any position", () => {
    const secret = "hunter2-token";
    const text = `before ${secret} middle ${secret}`;
    for (let cut = 0; cut <= text.length; cut++) {
      const m = new Masker([secret]);
      let out = "";
      const s = m.stream((t) => {
        out += t;
      });
      s.push(text.slice(0, cut));
      s.push(text.slice(cut));
      s.end();
      expect(out, `cut at ${cut}`).toBe(`before ${MASK} middle ${MASK}`);
    }
  });

  it("masks a secret that arrives one character at a time, and lets a mere prefix through at the end", () => {
    const m = new Masker(["abc"]);
    let out = "";
    const s = m.stream((t) => {
      out += t;
    });
    for (const ch of "xabcyab") s.push(ch);
    expect(out).toBe(`x${MASK}y`);
    s.end();
    expect(out).toBe(`x${MASK}yab`);
  });

  it("passes text through unchanged when there is no secret", () => {
    const m = new Masker([]);
    const got: string[] = [];
    const s = m.stream((t) => got.push(t));
    s.push("a");
    s.push("b");
    expect(got).toEqual(["a", "b"]);
  });
});
