// Text → hashed features for the hashing embedder (docs/architecture.md, EpiCache step 2).
// Pure TypeScript, no WASM: the embedText bindings tokenise here and send
// the token bytes to WASM (wasm/assembly/embed.ts hashes, counts, weights and
// normalises); the same hashes are computed here so callers can see which
// terms land in which bucket. Tests hold the two equal.
//
// Tokenisation:
//   1. NFKC normalisation (full-width letters, ligatures, composed accents);
//   2. Unicode lower-casing (String.prototype.toLowerCase, locale-independent);
//   3. a token is a maximal run of letters, combining marks and digits
//      (\p{L}\p{M}\p{N}: marks so Indic and other abugida words stay whole),
//      except that each Han ideograph is a token of its own (Chinese and
//      Japanese are written without spaces; bigrams then capture two-character
//      words). Everything else (spaces, punctuation, symbols, emoji) separates.
//
// Features: every token (unigram) and every pair of adjacent tokens (bigram),
// hashed as described in wasm/assembly/embed.ts; `bucket` and `sign` are
// where the feature lands in a `dim`-vector.
//
// API for the Durable Object (top terms, per-conversation IDF):
//   tokenize(text)                  → string[]
//   textFeatures(text, dim)         → TextFeature[] (distinct, first-occurrence
//                                     order, with tf and weight = 1 + ln tf)
//   documentBuckets(text, dim)      → Int32Array of the distinct buckets a
//                                     text touches (for document frequencies)
//   idfFromDocumentFrequency(df, N) → Float32Array idf, ready for embedText
// e.g. per-conversation IDF: for each segment `for (b of documentBuckets(t))
// df[b]++`, then `embedText(text, { idf: idfFromDocumentFrequency(df, nSegments) })`.
// Top terms of an episode: sum `weight · idf[bucket]` of textFeatures over
// its segments by `term`.

export const DEFAULT_EMBED_DIM = 384;

export interface TextFeature {
  /** The token ("word") or the two tokens joined by one space ("word1 word2"). */
  term: string;
  kind: "unigram" | "bigram";
  /** 32-bit feature hash (unsigned). */
  hash: number;
  /** Bucket in [0, dim). */
  bucket: number;
  sign: 1 | -1;
  /** Occurrences of this feature in the text (by hash). */
  tf: number;
  /** Sublinear tf: 1 + ln tf (before any idf). */
  weight: number;
}

/** One word token (see the header for the rules); global, for match and matchAll. */
export const TOKEN = /\p{Script=Han}|[\p{L}\p{M}\p{N}]+/gu;

/** Lower-cased word tokens of `text` in order (see the header for the rules). */
export function tokenize(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(TOKEN) ?? [];
}

/** FNV-1a 32 over the UTF-8 bytes of a token. */
export function tokenHash(utf8: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < utf8.length; i++) h = Math.imul(h ^ utf8[i]!, 0x01000193);
  return h >>> 0;
}

/** murmur3's 32-bit finaliser. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function unigramHash(t: number): number {
  return fmix32(t);
}

export function bigramHash(prev: number, t: number): number {
  return fmix32(Math.imul(prev, 0x9e3779b1) ^ t ^ 0x85ebca6b);
}

export function featureBucket(hash: number, dim: number): number {
  return (hash >>> 1) % dim;
}

export function featureSign(hash: number): 1 | -1 {
  return (hash & 1) !== 0 ? -1 : 1;
}

/** Distinct features of `text` in first-occurrence order (u0, u1, b01, u2, b12, …) with their tf. */
export function textFeatures(text: string, dim: number = DEFAULT_EMBED_DIM): TextFeature[] {
  checkDim(dim);
  const encoder = new TextEncoder();
  const byHash = new Map<number, TextFeature>();
  const add = (term: string, kind: TextFeature["kind"], hash: number): void => {
    const seen = byHash.get(hash);
    if (seen) {
      seen.tf++;
      seen.weight = 1 + Math.log(seen.tf);
    } else {
      byHash.set(hash, { term, kind, hash, bucket: featureBucket(hash, dim), sign: featureSign(hash), tf: 1, weight: 1 });
    }
  };
  const tokens = tokenize(text);
  let prev = 0;
  tokens.forEach((token, i) => {
    const t = tokenHash(encoder.encode(token));
    add(token, "unigram", unigramHash(t));
    if (i > 0) add(`${tokens[i - 1]} ${token}`, "bigram", bigramHash(prev, t));
    prev = t;
  });
  return [...byHash.values()];
}

/** The distinct buckets `text` touches, ascending (one document's contribution to document frequencies). */
export function documentBuckets(text: string, dim: number = DEFAULT_EMBED_DIM): Int32Array {
  return Int32Array.from(new Set(textFeatures(text, dim).map((f) => f.bucket))).sort();
}

/**
 * Smoothed idf per bucket, as sklearn's TfidfTransformer: ln((1 + N) / (1 + df)) + 1.
 * Always ≥ 1 for df ≤ N, so no bucket is zeroed out entirely.
 */
export function idfFromDocumentFrequency(df: ArrayLike<number>, nDocs: number): Float32Array {
  if (!Number.isInteger(nDocs) || nDocs < 0) throw new RangeError(`idfFromDocumentFrequency: nDocs must be a non-negative integer, got ${nDocs}`);
  const idf = new Float32Array(df.length);
  for (let b = 0; b < df.length; b++) {
    const d = df[b]!;
    if (!(d >= 0 && d <= nDocs)) throw new RangeError(`idfFromDocumentFrequency: df[${b}] = ${d} is outside [0, ${nDocs}]`);
    idf[b] = Math.log((1 + nDocs) / (1 + d)) + 1;
  }
  return idf;
}

const tokenEncoder = new TextEncoder();

/** Tokens as UTF-8 bytes back to back plus offsets (n + 1), the layout embedTokensF32 reads. */
export function encodeTokens(tokens: readonly string[]): { bytes: Uint8Array; offsets: Int32Array } {
  // One encoding of the joined tokens, offsets from each token's UTF-8 length: no array or view per token (every segment embedding goes through here, docs/memory.md).
  const offsets = new Int32Array(tokens.length + 1);
  for (let i = 0; i < tokens.length; i++) offsets[i + 1] = offsets[i]! + utf8Length(tokens[i]!);
  const bytes = new Uint8Array(offsets[tokens.length]!);
  if (tokenEncoder.encodeInto(tokens.join(""), bytes).written !== bytes.length) {
    // Surrogate halves split across two tokens pair up once joined: encode token by token instead.
    for (let i = 0; i < tokens.length; i++) bytes.set(tokenEncoder.encode(tokens[i]!), offsets[i]!);
  }
  return { bytes, offsets };
}

/** Bytes of `s` in UTF-8 (what TextEncoder writes: a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function checkDim(dim: number): void {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`embedding dim must be a positive integer, got ${dim}`);
}
