// Helpers for talking the KV wire protocol (docs/kv-protocol.md) to a backend
// over HTTP in tests: JSON and frame requests, frame replies, error replies.
import { expect } from "vitest";
import type { Model } from "../../../backend/model/forward";
import type { KvCache } from "../../../backend/model/kv";
import { kvEncodingMetadata, kvTensors, type KvEncoding } from "../../../backend/protocol/kv-frame";
import { PROTOCOL } from "../../../backend/protocol/calls";
import { parseSafetensors, writeSafetensors, type SafetensorsFile, type TensorInput } from "../../../protocol/safetensors";

export const frameHeaders = { "content-type": "application/x-safetensors" };

export async function post(url: string, path: string, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }): Promise<Response> {
  return fetch(url + path, { method: "POST", headers, body: body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body) });
}

export function requestFrame(model: Model, request: unknown, kv?: KvCache, enc: KvEncoding = { dtype: "F32" }, extra: [string, TensorInput][] = []): Uint8Array {
  const tensors = [...(kv ? kvTensors(kv, model.config.headDim, enc) : []), ...extra];
  return writeSafetensors(tensors, { protocol: PROTOCOL, request: JSON.stringify(request), ...(kv ? kvEncodingMetadata(enc) : {}) });
}

/** An error reply with this status, code and message; then the server still answers /healthz. */
export async function expectError(url: string, res: Response, status: number, code: string, message: RegExp): Promise<void> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string; type: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(message);
  expect((await fetch(url + "/healthz")).status).toBe(200);
}

export async function frameOf(res: Response): Promise<{ file: SafetensorsFile; response: Record<string, any> }> {
  expect(res.headers.get("content-type")).toBe("application/x-safetensors");
  const file = parseSafetensors(new Uint8Array(await res.arrayBuffer()));
  return { file, response: JSON.parse(file.metadata.response) };
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return a.length === b.length ? m : Infinity;
}
