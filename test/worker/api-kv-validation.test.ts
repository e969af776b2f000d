// kv-mode requests with bad `kv` settings or no question are refused at the
// edge with a 400 naming the field, before the Durable Object or a backend
// is involved (the worker test project has no kv backend configured).
import { describe, expect, it } from "vitest";
import { api } from "./support/epikv-client";

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

async function kvChat(body: Record<string, unknown>) {
  const res = await api("POST", "/v1/kv/chat/completions", { model: "epikv-tiny", messages: [{ role: "user", content: "hi" }], ...body });
  return { status: res.status, body: await res.json<ErrorBody>() };
}

describe("kv-mode request validation (workerd)", () => {
  const cases: [string, unknown, string][] = [
    ["kv not an object", "epicache", "kv"],
    ["unknown kv field", { polcy: "h2o" }, "kv.polcy"],
    ["unknown policy", { policy: "lru" }, "kv.policy"],
    ["budget with both forms", { budget: { tokensPerHead: 8, bytesPerConversation: 4096 } }, "kv.budget"],
    ["budget of zero", { budget: { tokensPerHead: 0 } }, "kv.budget.tokensPerHead"],
    ["fractional block size", { blockSize: 12.5 }, "kv.blockSize"],
    ["negative alpha", { alpha: -1 }, "kv.alpha"],
    ["NaN-like alpha", { alpha: "NaN" }, "kv.alpha"],
    ["unknown dtype", { encoding: { dtype: "fp8" } }, "kv.encoding.dtype"],
    ["bad group size", { encoding: { dtype: "int4", groupSize: 48 } }, "kv.encoding.groupSize"],
    ["pin TTL over a day", { pinTtlS: 90_000 }, "kv.pinTtlS"],
  ];
  for (const [name, kv, param] of cases) {
    it(`400 for ${name}`, async () => {
      const r = await kvChat({ kv });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.type).toBe("invalid_request_error");
      expect(r.body.error.param).toBe(param);
    });
  }

  it("400 when the request ends with an assistant message (nothing to answer)", async () => {
    const r = await kvChat({ messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe("messages");
  });
});
