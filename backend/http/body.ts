// Request bodies with a byte limit: a declared Content-Length over the limit
// is refused before reading; a streamed body is cut off as soon as it passes.
import type { IncomingMessage } from "node:http";
import { parseSafetensors, SafetensorsError, type SafetensorsFile } from "../../protocol/safetensors";
import { invalid, ProtocolError } from "../protocol/errors";
import { asObject, type Json } from "../protocol/fields";
import { firstTooDeep, tooDeepMessage } from "../../protocol/json-depth";

export async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > limit) throw new ProtocolError("payload_too_large", `request body of ${declared} bytes exceeds the limit of ${limit} bytes`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new ProtocolError("payload_too_large", `request body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  const buf = Buffer.concat(chunks);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export type BodyKind = "json" | "frame";

export function bodyKind(req: IncomingMessage): BodyKind {
  const type = (req.headers["content-type"] ?? "application/json").split(";")[0].trim().toLowerCase();
  if (type === "application/json") return "json";
  if (type === "application/x-safetensors" || type === "application/octet-stream") return "frame";
  throw new ProtocolError("unsupported_media_type", `Content-Type "${type}" is not accepted; send application/json or application/x-safetensors`);
}

export function parseJsonBody(bytes: Uint8Array): Json {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    invalid(`body is not valid UTF-8: ${(e as Error).message}`);
  }
  const deep = firstTooDeep(text);
  if (deep >= 0) invalid(tooDeepMessage(deep));
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    invalid(`body is not valid JSON: ${(e as Error).message}`);
  }
  return asObject(v);
}

/** A request frame: its tensors and the JSON request in __metadata__.request. */
export function parseFrameBody(bytes: Uint8Array, protocol: string): { file: SafetensorsFile; body: Json } {
  let file: SafetensorsFile;
  try {
    file = parseSafetensors(bytes, { maxHeaderBytes: 4 * 1024 * 1024 });
  } catch (e) {
    if (e instanceof SafetensorsError) throw new ProtocolError("invalid_frame", e.message);
    throw e;
  }
  const p = file.metadata.protocol;
  if (p !== undefined && p !== protocol) throw new ProtocolError("invalid_frame", `frame speaks protocol "${p}", this backend speaks "${protocol}"`, "__metadata__.protocol");
  const raw = file.metadata.request ?? "{}";
  const deep = firstTooDeep(raw);
  if (deep >= 0) throw new ProtocolError("invalid_frame", tooDeepMessage(deep), "__metadata__.request");
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    throw new ProtocolError("invalid_frame", `__metadata__.request is not valid JSON: ${(e as Error).message}`, "__metadata__.request");
  }
  return { file, body: asObject(body, "__metadata__.request") };
}
