// The one API field kv mode fills for the inspector and /metrics:
// `kv` on GET /v1/conversations/{id} (ConversationInfo). Context-mode
// conversations have no `kv`, and the inspector shows token figures
// instead. kv mode (durable-objects/kv/) adds this object to info();
// nothing else needs to change for the page's layer chart and the
// epikv_kv_* metrics to appear.
export interface KvFigures {
  /** Retained entries per KV head for each layer, b_l (docs/architecture.md, EpiCache step 6). */
  layer_budgets: number[];
  /** Bytes of compressed KV pages stored for this conversation. */
  bytes_stored: number;
  /** Bytes the uncompressed fp32 cache of the whole conversation would take (for the compression ratio). */
  full_bytes?: number;
  /** Page encoding, e.g. "int8" or "fp16". */
  encoding?: string;
}

const nonNegative = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/** `info.kv` when it has the KvFigures shape, else null (never throws on foreign shapes). */
export function kvFigures(info: unknown): KvFigures | null {
  const kv = (info as { kv?: unknown } | null)?.kv as Partial<KvFigures> | undefined;
  if (!kv || typeof kv !== "object") return null;
  if (!Array.isArray(kv.layer_budgets) || !kv.layer_budgets.every(nonNegative) || !nonNegative(kv.bytes_stored)) return null;
  return {
    layer_budgets: kv.layer_budgets,
    bytes_stored: kv.bytes_stored,
    ...(nonNegative(kv.full_bytes) ? { full_bytes: kv.full_bytes } : {}),
    ...(typeof kv.encoding === "string" ? { encoding: kv.encoding } : {}),
  };
}
