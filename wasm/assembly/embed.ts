// Hashing embedder (docs/architecture.md, EpiCache step 2: the offline default
// embedder). Tokens arrive already lower-cased and split (wasm/src/text-features.ts
// documents the tokenisation), as UTF-8 bytes plus offsets; everything from
// the bytes on happens here:
//
//   token hash  t  = FNV-1a 32 of the token's UTF-8 bytes
//   unigram     h  = fmix32(t)                                (murmur3 finaliser)
//   bigram      h  = fmix32(t_prev · 0x9e3779b1 ^ t ^ 0x85ebca6b)
//   bucket = (h >>> 1) % dim, sign = h & 1 ? −1 : +1          (signed feature hashing)
//   features in order u0, u1, b01, u2, b12, …; tf counted per distinct h
//   v[bucket] += sign · (1 + ln tf)   over distinct features, first-occurrence order
//   v[b] *= idf[b] (when given);  v /= ‖v‖₂ (all-zero stays all-zero)
//
// The TS mirror (textFeatures in wasm/src/text-features.ts) computes the same
// hashes so callers can name the terms behind a bucket; tests hold them equal.
//
// Scratch (bytes from embedScratchBytes), in this order, 16-byte aligned:
//   features u32[2n] · keys u32[cap] · counts i32[cap] · acc f64[dim]
// with cap = the smallest power of two ≥ 4n (open addressing, load ≤ 1/2).

@inline
function align16(x: usize): usize {
  return (x + 15) & ~(<usize>15);
}

function tableCapacity(nTokens: i32): i32 {
  let cap = 4;
  while (cap < 4 * nTokens) cap <<= 1;
  return cap;
}

export function embedScratchBytes(nTokens: i32, dim: i32): usize {
  const cap = <usize>tableCapacity(nTokens);
  return align16(<usize>(2 * nTokens) << 2) + align16(cap << 2) * 2 + align16(<usize>dim << 3);
}

@inline
function fmix32(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}

function fnv1a(ptr: usize, len: i32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < len; i++) {
    h ^= <u32>load<u8>(ptr + <usize>i);
    h *= 0x01000193;
  }
  return h;
}

/** Slot of key h in the table (its own slot or the empty one where it goes); linear probing. */
@inline
function probe(keys: usize, counts: usize, mask: u32, h: u32): usize {
  let s = fmix32(h ^ 0x9e3779b9) & mask;
  while (true) {
    const off = <usize>s << 2;
    if (load<i32>(counts + off) == 0 || load<u32>(keys + off) == h) return off;
    s = (s + 1) & mask;
  }
  return 0; // unreachable
}

/**
 * Embed one tokenised text: tokens are bytes[offsets[i] .. offsets[i+1]) for
 * i < nTokens. idfPtr = 0 means no weights; otherwise f32[dim]. Writes the
 * L2-normalised f32[dim] vector to outPtr.
 */
export function embedTokensF32(bytesPtr: usize, offsetsPtr: usize, nTokens: i32, dim: i32, idfPtr: usize, outPtr: usize, scratch: usize): void {
  const cap = tableCapacity(nTokens);
  const features = scratch;
  const keys = features + align16(<usize>(2 * nTokens) << 2);
  const counts = keys + align16(<usize>cap << 2);
  const acc = counts + align16(<usize>cap << 2);
  const mask = <u32>(cap - 1);
  memory.fill(counts, 0, <usize>cap << 2);
  memory.fill(acc, 0, <usize>dim << 3);

  // 1. features in order, counting tf per distinct hash
  let nf = 0;
  let prev: u32 = 0;
  for (let i = 0; i < nTokens; i++) {
    const start = load<i32>(offsetsPtr + (<usize>i << 2));
    const end = load<i32>(offsetsPtr + (<usize>(i + 1) << 2));
    const t = fnv1a(bytesPtr + <usize>start, end - start);
    store<u32>(features + (<usize>nf << 2), fmix32(t));
    nf++;
    if (i > 0) {
      store<u32>(features + (<usize>nf << 2), fmix32((prev * 0x9e3779b1) ^ t ^ 0x85ebca6b));
      nf++;
    }
    prev = t;
  }
  for (let f = 0; f < nf; f++) {
    const h = load<u32>(features + (<usize>f << 2));
    const off = probe(keys, counts, mask, h);
    store<u32>(keys + off, h);
    store<i32>(counts + off, load<i32>(counts + off) + 1);
  }

  // 2. signed sublinear tf per distinct feature, first occurrence first
  for (let f = 0; f < nf; f++) {
    const h = load<u32>(features + (<usize>f << 2));
    const off = probe(keys, counts, mask, h);
    const tf = load<i32>(counts + off);
    if (tf < 0) continue; // already added
    store<i32>(counts + off, -1); // stays occupied for probing, marks "added"
    const w: f64 = 1 + Math.log(<f64>tf);
    const ap = acc + (<usize>((h >>> 1) % <u32>dim) << 3);
    store<f64>(ap, (h & 1) != 0 ? load<f64>(ap) - w : load<f64>(ap) + w);
  }

  // 3. idf weights and L2 normalisation
  let norm2: f64 = 0;
  for (let b = 0; b < dim; b++) {
    const ap = acc + (<usize>b << 3);
    let v = load<f64>(ap);
    if (idfPtr != 0) {
      v *= <f64>load<f32>(idfPtr + (<usize>b << 2));
      store<f64>(ap, v);
    }
    norm2 += v * v;
  }
  const inv: f64 = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
  for (let b = 0; b < dim; b++) {
    store<f32>(outPtr + (<usize>b << 2), <f32>(load<f64>(acc + (<usize>b << 3)) * inv));
  }
}
