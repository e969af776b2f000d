// Per-conversation IDF over the hashing embedder's buckets (docs/architecture.md, EpiCache step 2).
//
// The hashing embedder multiplies per-bucket weights into the hashed counts
// and then L2-normalises, so embedding with IDF equals re-weighting the
// unweighted unit embedding and normalising again:
//   embed(text, {idf}) = normalize(idf ⊙ embed(text)).
// Segments are therefore stored unweighted, document frequencies (how many
// segments touch each bucket) are counted as segments arrive, and the IDF of
// the last clustering is applied when clustering, assigning and matching —
// no re-embedding when the IDF moves.

/** df[b] += 1 for every bucket the (unweighted) embedding touches. */
export function addDocumentFrequency(df: Float64Array, vec: Float32Array): void {
  if (df.length !== vec.length) throw new RangeError(`df has ${df.length} buckets, vector ${vec.length}`);
  for (let b = 0; b < vec.length; b++) if (vec[b] !== 0) df[b]! += 1;
}

/** The inverse of addDocumentFrequency, for a segment that is deleted (a fork superseded its messages). */
export function removeDocumentFrequency(df: Float64Array, vec: Float32Array): void {
  if (df.length !== vec.length) throw new RangeError(`df has ${df.length} buckets, vector ${vec.length}`);
  for (let b = 0; b < vec.length; b++) if (vec[b] !== 0) df[b] = Math.max(0, df[b]! - 1);
}

// The smoothed IDF itself, ln((1 + n) / (1 + df)) + 1, is the embedder's
// idfFromDocumentFrequency (wasm/src/text-features.ts).

/** normalize(idf ⊙ vec); all-zero stays all-zero. */
export function reweight(vec: Float32Array, idf: Float32Array | null): Float32Array {
  if (!idf) return vec;
  const out = new Float32Array(vec.length);
  let norm = 0;
  for (let b = 0; b < vec.length; b++) {
    const x = vec[b]! * idf[b]!;
    out[b] = x;
    norm += x * x;
  }
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let b = 0; b < out.length; b++) out[b]! *= inv;
  }
  return out;
}

/**
 * Re-weights every row of a row-major matrix in place, with the same
 * arithmetic as `reweight` but no array per row (the alarm's re-clustering
 * runs it over every segment; per-row arrays piled up as garbage,
 * docs/memory.md).
 */
export function reweightRows(rows: Float32Array, dim: number, idf: Float32Array | null): void {
  if (!idf) return;
  for (let off = 0; off < rows.length; off += dim) {
    let norm = 0;
    for (let b = 0; b < dim; b++) {
      const x = rows[off + b]! * idf[b]!;
      rows[off + b] = x;
      norm += x * x;
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let b = 0; b < dim; b++) rows[off + b]! *= inv;
    }
  }
}
