// API key parsing, constant-time comparison and lookup (worker/auth/api-keys.ts).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ApiKeyConfigError, constantTimeEqual, keyTable, lookupKey, parseApiKeys, presentedKey } from "../../worker/auth/api-keys";

describe("API_KEYS parsing", () => {
  it("reads both the key:tenant list and the JSON object form", () => {
    expect(parseApiKeys("sk-aaaaaaaaaaaaaaaa:alpha, sk-bbbbbbbbbbbbbbbb:beta")).toEqual([
      { key: "sk-aaaaaaaaaaaaaaaa", tenant: "alpha" },
      { key: "sk-bbbbbbbbbbbbbbbb", tenant: "beta" },
    ]);
    expect(parseApiKeys('{"sk-cccccccccccccccc":"gamma"}')).toEqual([{ key: "sk-cccccccccccccccc", tenant: "gamma" }]);
    expect(parseApiKeys("  ")).toEqual([]);
  });

  it("refuses short keys, bad tenants and broken JSON without echoing the key", () => {
    const cases = ["short:alpha", "sk-aaaaaaaaaaaaaaaa:bad tenant!", '{"sk-aaaaaaaaaaaaaaaa": 3}', "{nope", "sk-aaaaaaaaaaaaaaaa", "[1]"];
    for (const raw of cases) {
      let err: unknown;
      try {
        parseApiKeys(raw);
      } catch (e) {
        err = e;
      }
      expect(err, raw).toBeInstanceOf(ApiKeyConfigError);
      expect((err as Error).message).not.toContain("sk-aaaaaaaaaaaaaaaa");
    }
  });
});

describe("key lookup", () => {
  it("finds the tenant of a valid key and nothing for any other string", async () => {
    const table = keyTable("sk-aaaaaaaaaaaaaaaa:alpha,sk-bbbbbbbbbbbbbbbb:beta");
    expect(lookupKey(table, "sk-bbbbbbbbbbbbbbbb")?.tenant).toBe("beta");
    expect(table.every((e) => /^[0-9a-f]{12}$/.test(e.keyId))).toBe(true);
    await fc.assert(
      fc.asyncProperty(fc.string(), async (s) => {
        fc.pre(s !== "sk-aaaaaaaaaaaaaaaa" && s !== "sk-bbbbbbbbbbbbbbbb");
        expect(lookupKey(table, s)).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it("compares bytes without early exit and agrees with plain equality", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(a.length === b.length && a.every((x, i) => x === b[i]));
        expect(constantTimeEqual(a, a.slice())).toBe(true);
      }),
    );
  });

  it("takes the key from Authorization: Bearer or x-api-key", () => {
    expect(presentedKey(new Headers({ authorization: "Bearer abc" }))).toBe("abc");
    expect(presentedKey(new Headers({ authorization: "bearer   abc  " }))).toBe("abc");
    expect(presentedKey(new Headers({ authorization: "Basic abc" }))).toBeNull();
    expect(presentedKey(new Headers({ "x-api-key": "k" }))).toBe("k");
    expect(presentedKey(new Headers())).toBeNull();
  });
});
