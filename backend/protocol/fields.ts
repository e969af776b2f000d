// Validation of request fields: each helper returns the typed value or throws
// a ProtocolError naming the parameter.
import { invalid } from "./errors";

export type Json = Record<string, unknown>;

export function asObject(v: unknown, name = "body"): Json {
  if (v === null || typeof v !== "object" || Array.isArray(v)) invalid(`${name} must be a JSON object`, name === "body" ? null : name);
  return v as Json;
}

export function intArray(v: unknown, name: string, o: { min?: number; max?: number; minLength?: number; maxLength?: number } = {}): number[] {
  if (!Array.isArray(v)) invalid(`${name} must be an array of integers`, name);
  if (v.length < (o.minLength ?? 0)) invalid(`${name} must have at least ${o.minLength} entries`, name);
  if (o.maxLength !== undefined && v.length > o.maxLength) invalid(`${name} has ${v.length} entries, at most ${o.maxLength} allowed`, name);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isSafeInteger(x) || (o.min !== undefined && x < o.min) || (o.max !== undefined && x > o.max)) {
      invalid(`${name}[${i}] = ${JSON.stringify(x)} must be an integer in [${o.min ?? "-∞"}, ${o.max ?? "∞"}]`, name);
    }
  }
  return v as number[];
}

export function optInt(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) invalid(`${name} must be an integer in [${min}, ${max}]`, name);
  return v as number;
}

export function optNumber(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) invalid(`${name} must be a number in [${min}, ${max}]`, name);
  return v;
}

export function optBool(v: unknown, name: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") invalid(`${name} must be a boolean`, name);
  return v;
}

export function optString(v: unknown, name: string, maxLength = 1 << 20): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.length > maxLength) invalid(`${name} must be a string of at most ${maxLength} characters`, name);
  return v;
}
