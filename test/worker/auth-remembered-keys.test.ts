// worker/auth/authenticate.ts remembers the keys it found valid, per API_KEYS
// value: a key found once is found again without hashing, and a rotated
// API_KEYS value starts from nothing, so a removed key is refused at once.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { authenticate } from "../../worker/auth/authenticate";

function app() {
  const a = new Hono<{ Bindings: { API_KEYS?: string } }>();
  a.use("*", authenticate() as never);
  a.get("/v1/whoami", (c) => c.json({ tenant: (c.var as Record<string, unknown>).tenant }));
  return a;
}

const ask = (a: ReturnType<typeof app>, key: string, keys: string) =>
  a.request("/v1/whoami", { headers: { authorization: `Bearer ${key}` } }, { API_KEYS: keys });

describe("remembered API keys", () => {
  it("finds a valid key again, refuses others however often they come, and forgets keys with the API_KEYS value they came from", async () => {
    const a = app();
    const both = "sk-remember-aaaaaaaa:alpha,sk-remember-bbbbbbbb:beta";
    for (let i = 0; i < 3; i++) {
      expect(await (await ask(a, "sk-remember-aaaaaaaa", both)).json()).toEqual({ tenant: "alpha" });
      expect(await (await ask(a, "sk-remember-bbbbbbbb", both)).json()).toEqual({ tenant: "beta" });
      expect((await ask(a, "sk-remember-cccccccc", both)).status).toBe(401);
      expect((await ask(a, "sk-remember-aaaaaaab", both)).status).toBe(401);
    }
    // Rotation: alpha's key is gone from the new value; beta's moved to another tenant.
    const rotated = "sk-remember-bbbbbbbb:gamma";
    expect((await ask(a, "sk-remember-aaaaaaaa", rotated)).status).toBe(401);
    expect(await (await ask(a, "sk-remember-bbbbbbbb", rotated)).json()).toEqual({ tenant: "gamma" });
  });
});
