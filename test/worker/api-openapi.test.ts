// /openapi.json describes every route the app registers, and /v1/models
// lists what a client may name.
import { SELF } from "cloudflare:test";
import { TEST_API_KEY } from "../../testing/test-api-keys";
import { describe, expect, it } from "vitest";
import { app } from "../../worker/app";

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
}

describe("GET /openapi.json (workerd)", () => {
  it("is OpenAPI 3.1 and documents every registered route and method", async () => {
    const res = await SELF.fetch("http://epikv.test/openapi.json");
    expect(res.status).toBe(200);
    const doc = await res.json<OpenApi>();
    expect(doc.openapi).toBe("3.1.0");
    const registered = app.routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:(\w+)/g, "{$1}") }));
    expect(registered.length).toBeGreaterThanOrEqual(11);
    for (const { method, path } of registered) {
      expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} missing from openapi.json`).toBeDefined();
      expect(Object.keys(doc.paths[path]![method]!.responses).length).toBeGreaterThan(0);
    }
    // and nothing documented that is not served
    const served = new Set(registered.map((r) => `${r.method} ${r.path}`));
    for (const [path, ops] of Object.entries(doc.paths)) for (const m of Object.keys(ops)) expect(served.has(`${m} ${path}`), `${m} ${path} documented but not served`).toBe(true);
  });

  it("resolves every $ref it uses", async () => {
    const doc = await (await SELF.fetch("http://epikv.test/openapi.json")).json<Record<string, unknown>>();
    const refs = JSON.stringify(doc).match(/"\$ref":"#\/[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const r of refs) {
      const path = r.slice(10, -1).split("/");
      let node: unknown = doc;
      for (const p of path) node = (node as Record<string, unknown>)?.[p];
      expect(node, r).toBeDefined();
    }
  });
});

describe("GET /v1/models (workerd)", () => {
  it("lists the epikv alias and the configured BACKEND_MODEL", async () => {
    const body = await (await SELF.fetch("http://epikv.test/v1/models", { headers: { authorization: `Bearer ${TEST_API_KEY}` } })).json<{ object: string; data: { id: string; object: string }[] }>();
    expect(body.object).toBe("list");
    expect(body.data.map((m) => m.id)).toEqual(["epikv", "test-double-model"]);
  });
});
