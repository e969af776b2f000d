// The malformed-input cases of the KV wire protocol (docs/kv-protocol.md,
// "Frames" and "Errors"), shared by every backend that speaks it: truncated
// frames, lying headers, huge declared sizes, NaN, wrong shapes, bad
// positions, bad JSON, unknown routes, media types and oversized bodies each
// get the protocol's 4xx error, and the server keeps serving.
import { describe, expect, it } from "vitest";
import { expectError, frameHeaders, post, requestFrame } from "./kv-http";
import type { Model } from "../../../backend/model/forward";
import { kvTensors } from "../../../backend/protocol/kv-frame";
import { writeSafetensors, type TensorInput } from "../../../protocol/safetensors";

export interface KvBackendUnderTest {
  url: string;
  /** The reference model with the backend's weights (builds the KV that is sent). */
  model: Model;
  /** The same backend with a body limit of `maxBodyBytes`. */
  startSmall(maxBodyBytes: number): Promise<{ url: string; close(): Promise<void> }>;
}

export function kvMalformedSuite(name: string, t: () => KvBackendUnderTest): void {
  describe(`${name}: KV protocol rejects malformed input and keeps serving`, () => {
    const kv = () => t().model.forward({ tokens: [1, 2, 3, 4], positions: [0, 1, 2, 3], logits: "none" }).kv;

    it("truncated frames, lying headers and huge declared sizes", async () => {
      const good = requestFrame(t().model, { tokens: [5] }, kv());
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", good.subarray(0, good.length - 3), frameHeaders), 400, "invalid_frame", /trailing|past the end|truncated/);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", good.subarray(0, 6), frameHeaders), 400, "invalid_frame", /truncated frame/);
      const lying = good.slice();
      new DataView(lying.buffer).setUint32(0, 0xfffffff0, true);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", lying, frameHeaders), 400, "invalid_frame", /exceeds the limit/);
      const header = JSON.stringify({ "kv.0.0.keys": { dtype: "F32", shape: [2 ** 30, 2 ** 20], data_offsets: [0, 2 ** 52] } });
      const huge = new Uint8Array(8 + header.length + 8);
      new DataView(huge.buffer).setUint32(0, header.length, true);
      huge.set(new TextEncoder().encode(header), 8);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", huge, frameHeaders), 400, "invalid_frame", /needs more bytes than the 8-byte data buffer/);
    });

    it("NaN, wrong shapes, missing heads, stray tensors, unknown encodings", async () => {
      const bad = kv();
      bad[1][0].keys[5] = NaN;
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", requestFrame(t().model, { tokens: [5] }, bad), frameHeaders), 400, "invalid_frame", /"kv.1.0.keys" has a non-finite value at element 5/);
      const k = kv();
      const tensors = kvTensors(k, 16).map(([n, x]) => (n === "kv.2.1.values" ? ([n, { dtype: "F32", shape: [2, 32], data: x.data }] as [string, TensorInput]) : [n, x] as [string, TensorInput]));
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", writeSafetensors(tensors, { request: JSON.stringify({ tokens: [5] }) }), frameHeaders), 400, "invalid_kv", /"kv.2.1.values" has shape \[2,32\], expected \[4,16\]/);
      const missing = kvTensors(k, 16).filter(([n]) => !n.startsWith("kv.3.1."));
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", writeSafetensors(missing, { request: JSON.stringify({ tokens: [5] }) }), frameHeaders), 400, "invalid_kv", /missing tensor "kv.3.1.positions"/);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", requestFrame(t().model, { tokens: [5] }, k, undefined, [["kv.4.0.positions", { dtype: "I32", shape: [0], data: new Int32Array(0) }]]), frameHeaders), 400, "invalid_kv", /unexpected tensor "kv.4.0.positions"/);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", writeSafetensors(kvTensors(k, 16), { kv_dtype: "fp8", request: "{}" }), frameHeaders), 400, "invalid_kv", /unknown kv_dtype "fp8"/);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", writeSafetensors([], { protocol: "epikv-kv/99" }), frameHeaders), 400, "invalid_frame", /speaks protocol "epikv-kv\/99"/);
    });

    it("out-of-range and out-of-order positions and tokens", async () => {
      const k = kv();
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", requestFrame(t().model, { tokens: [5], start_position: 2 }, k), frameHeaders), 400, "invalid_positions", /not after the supplied kv \(last position 3\)/);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", { tokens: [5, 6], positions: [4, 4] }), 400, "invalid_positions", /strictly increasing/);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", { tokens: [5], positions: [1 << 20] }), 400, "invalid_request", /positions\[0\]/);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", { tokens: [5, 6], positions: [1] }), 400, "invalid_positions", /1 entries for 2 tokens/);
      const shuffled = kv();
      shuffled[0][1].positions.set([0, 2, 1, 3]);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", requestFrame(t().model, { tokens: [5] }, shuffled), frameHeaders), 400, "invalid_positions", /kv layer 0 head 1: positions must be strictly increasing/);
      const negative = kv();
      negative[2][0].positions[0] = -5;
      await expectError(t().url, await post(t().url, "/kv/v1/decode", requestFrame(t().model, { tokens: [5] }, negative), frameHeaders), 400, "invalid_positions", /position -5 at index 0 is outside/);
      await expectError(t().url, await post(t().url, "/kv/v1/decode", { tokens: [264] }), 400, "invalid_request", /tokens\[0\] = 264/);
      await expectError(t().url, await post(t().url, "/kv/v1/decode", { tokens: [] }), 400, "invalid_request", /at least 1/);
    });

    it("bad JSON, unknown models, routes and methods, media types, oversized bodies", async () => {
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", new TextEncoder().encode("{nope"), { "content-type": "application/json" }), 400, "invalid_request", /not valid JSON/);
      await expectError(t().url, await post(t().url, "/kv/v1/decode", { model: "gpt-5", tokens: [1] }), 404, "model_not_found", /"gpt-5" is not served here/);
      await expectError(t().url, await fetch(t().url + "/kv/v1/nope"), 404, "not_found", /no route GET \/kv\/v1\/nope/);
      await expectError(t().url, await fetch(t().url + "/kv/v1/prefill"), 405, "method_not_allowed", /use POST/);
      await expectError(t().url, await post(t().url, "/kv/v1/prefill", new Uint8Array(4), { "content-type": "text/plain" }), 415, "unsupported_media_type", /text\/plain/);
      const small = await t().startSmall(1024);
      try {
        const res = await fetch(small.url + "/kv/v1/prefill", { method: "POST", headers: frameHeaders, body: new Uint8Array(4096) });
        expect(res.status).toBe(413);
        expect(((await res.json()) as any).error.code).toBe("payload_too_large");
        expect((await fetch(small.url + "/healthz")).status).toBe(200);
      } finally {
        await small.close();
      }
    });
  });
}
