import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("GET /healthz (workerd)", () => {
  it("answers with build information and the instantiated kernels", async () => {
    const res = await SELF.fetch("http://epikv.test/healthz");
    expect(res.status).toBe(200);
    const body = await res.json<{ status: string; wasm: { build: string; kernels: string[] } }>();
    expect(body.status).toBe("ok");
    expect(body.wasm.kernels).toContain("dotRowsF32");
    // The Worker runs the relaxed-SIMD build (wasm/src/bundled.ts); it compiled and instantiated here.
    expect(body.wasm.build).toBe("relaxed-simd");
  });
});
