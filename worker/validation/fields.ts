// Small typed readers for JSON request fields. Each throws a 400 whose
// `param` names the field (OpenAI style: "messages[3].content"), so a client
// learns exactly what to fix.
import { invalidRequest } from "../http/api-error";

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

export function requireObject(v: unknown, param: string | null): JsonObject {
  if (!isObject(v)) throw invalidRequest(`${param ?? "request body"} must be a JSON object, got ${describe(v)}`, param, "invalid_type");
  return v;
}

export function optionalString(obj: JsonObject, key: string, prefix = ""): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalidRequest(`${prefix}${key} must be a string, got ${describe(v)}`, prefix + key, "invalid_type");
  return v;
}

export function requireString(obj: JsonObject, key: string, prefix = ""): string {
  const v = optionalString(obj, key, prefix);
  if (v === undefined) throw invalidRequest(`${prefix}${key} is required`, prefix + key, "missing_required_parameter");
  return v;
}

export function optionalBoolean(obj: JsonObject, key: string, prefix = ""): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw invalidRequest(`${prefix}${key} must be a boolean, got ${describe(v)}`, prefix + key, "invalid_type");
  return v;
}

/** An optional integer within [min, max]. */
export function optionalInt(obj: JsonObject, key: string, min: number, max: number, prefix = ""): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw invalidRequest(`${prefix}${key} must be an integer, got ${describe(v)}${typeof v === "number" ? ` ${v}` : ""}`, prefix + key, "invalid_type");
  }
  if (v < min || v > max) throw invalidRequest(`${prefix}${key} must be between ${min} and ${max}, got ${v}`, prefix + key);
  return v;
}

/** Rejects keys outside `allowed` (typos in settings would otherwise be silently ignored). */
export function rejectUnknownKeys(obj: JsonObject, allowed: readonly string[], prefix = ""): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw invalidRequest(`unknown field ${prefix}${key}; allowed: ${allowed.join(", ")}`, prefix + key, "unknown_parameter");
    }
  }
}
