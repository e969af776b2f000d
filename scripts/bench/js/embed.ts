// Best plain-JS hashing embedder for the benchmark: the same tokenisation,
// hashes and arithmetic as embedText, with the tf table as a Map and the
// bucket sums in a Float64Array (no feature objects).
import { bigramHash, featureBucket, tokenHash, tokenize, unigramHash } from "../../../wasm/src/text-features";

const encoder = new TextEncoder();

export function jsEmbedText(text: string, dim: number, idf?: Float32Array): Float32Array {
  const tokens = tokenize(text);
  const features = new Uint32Array(Math.max(0, 2 * tokens.length - 1));
  let nf = 0;
  let prev = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokenHash(encoder.encode(tokens[i]!));
    features[nf++] = unigramHash(t);
    if (i > 0) features[nf++] = bigramHash(prev, t);
    prev = t;
  }
  const tf = new Map<number, number>();
  for (let f = 0; f < nf; f++) tf.set(features[f]!, (tf.get(features[f]!) ?? 0) + 1);
  const acc = new Float64Array(dim);
  for (const [h, count] of tf) {
    const w = 1 + Math.log(count);
    acc[featureBucket(h, dim)] += (h & 1) !== 0 ? -w : w;
  }
  let norm2 = 0;
  for (let b = 0; b < dim; b++) {
    if (idf) acc[b] *= idf[b]!;
    norm2 += acc[b]! * acc[b]!;
  }
  const inv = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
  const out = new Float32Array(dim);
  for (let b = 0; b < dim; b++) out[b] = acc[b]! * inv;
  return out;
}
