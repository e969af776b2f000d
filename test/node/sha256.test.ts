// protocol/sha256.ts against Node's own SHA-256 (OpenSSL) and the FIPS 180-4
// examples, on lengths around every padding boundary and random inputs.
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256, sha256Text, sha256TextHex, toHex } from "../../protocol/sha256";

const reference = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("sha256", () => {
  it("matches the FIPS 180-4 examples", () => {
    expect(toHex(sha256Text("abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(toHex(sha256Text(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(sha256Text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  });

  it("matches node:crypto on every length 0..300 and on random inputs up to 64 KiB", () => {
    for (let n = 0; n <= 300; n++) {
      const b = randomBytes(n);
      expect(toHex(sha256(b))).toBe(reference(b));
    }
    for (const n of [1023, 1024, 4097, 65_536]) {
      const b = randomBytes(n);
      expect(toHex(sha256(b))).toBe(reference(b));
    }
  });

  it("hashes text as UTF-8, as bytes or hex (whole or a prefix), past the shared buffer too", () => {
    for (const s of ["naïve café", "日本語のテキスト", "emoji 🧪 and \u0000 nul", "x".repeat(1000), "é".repeat(2000), "日".repeat(5000), ""]) {
      const expected = createHash("sha256").update(s, "utf8").digest("hex");
      expect(toHex(sha256Text(s))).toBe(expected);
      expect(sha256TextHex(s)).toBe(expected);
      expect(sha256TextHex(s, 32)).toBe(expected.slice(0, 32));
    }
    // The shared buffer's stale bytes never leak into a shorter message.
    for (let n = 300; n >= 0; n -= 7) {
      const s = "ab".repeat(n);
      expect(sha256TextHex(s)).toBe(createHash("sha256").update(s, "utf8").digest("hex"));
    }
  });
});
