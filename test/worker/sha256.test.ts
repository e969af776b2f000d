// protocol/sha256.ts inside workerd, against the runtime's WebCrypto digest.
import { describe, expect, it } from "vitest";
import { sha256, toHex } from "../../protocol/sha256";

describe("sha256 (workerd)", () => {
  it("matches crypto.subtle.digest on lengths around the padding boundaries and random bytes", async () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 70_000]) {
      const bytes = crypto.getRandomValues(new Uint8Array(Math.min(n, 65_536)));
      const data = n > 65_536 ? new Uint8Array(n).map((_, i) => bytes[i % bytes.length]!) : bytes;
      expect(toHex(sha256(data))).toBe(toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data))));
    }
  });
});
