// Scores of a query against a column-major fp32 matrix, reading only the
// columns (dims) the query names.
//
//   out[i] = Σ_k val[k] · cols[idx[k]·stride + i]   for i < n
//
// Why column-major: the hashing embedder (embed.ts) puts a short message's
// unigrams and bigrams into a few dozen of the 384 dims, and IDF reweighting
// keeps zeros zero: in the context evaluation's conversations a message has
// 22 nonzero dims at the median, 36 at p90, 51 at most. Stored by
// column, a scan reads those columns only (nnz·n floats) instead of every row
// (dim·n floats), which is what bounds the row-major scan (similarity.ts).
//
// Blocking: up to 8 columns are applied per pass over `out`, so `out` is read
// and written ⌈nnz/8⌉ times, not nnz times, and each pass keeps 8 + 2
// sequential streams in flight. The first pass starts from zero and does not
// read `out` (so `out` need not be initialised). Measured at 25k × 384 (EPYC,
// Node 20): 16 columns per pass, tiling `out` into L1-sized blocks of
// 256–8192 rows (slower: short column chunks defeat the prefetcher), and a
// first pass without the `init` select were no faster, so there is one code
// path for every nnz. A dense query reads every column, the same bytes as a
// row-major scan, but at ~21 GB/s against the row scan's four streams at
// ~37: it takes ~1.8× as long. The crossover against ResidentRows is near
// nnz ≈ 200 (docs/kernels.md, "Column scans"); no dense path is kept beside
// it, since that would need a second, row-major copy of the rows.
//
// Summation order (exact, so the plain-TS oracle reproduces it bit for bit):
// out[i] = ((0 + v0·c0[i]) + v1·c1[i]) + … strictly in k order, every product
// and every sum rounded to f32 (baseline WASM SIMD has no FMA). nnz = 0 gives
// +0 everywhere. Duplicate indices are allowed: each occurrence adds its own
// term in its place in that order.
//
// Non-finite values follow IEEE arithmetic for the terms that are computed
// (NaN propagates, Inf may give ±Inf or NaN). A dim the caller leaves out
// contributes nothing, even where its column holds NaN or Inf — unlike a dense
// dot product, where 0·Inf = NaN. Callers that pass only a query's nonzero
// dims therefore treat a query zero as "this dim does not count".
//
// Columns need no alignment (any stride ≥ n); indices must be
// in range (the bindings check; this file trusts its pointers).

/** One pass over out with 8 columns: out[i] = (init ? out[i] : 0) + v0·c0[i] + … + v7·c7[i], in that order. */
@inline
function pass8(
  out: usize, n: i32, init: bool,
  c0: usize, c1: usize, c2: usize, c3: usize, c4: usize, c5: usize, c6: usize, c7: usize,
  s0: f32, s1: f32, s2: f32, s3: f32, s4: f32, s5: f32, s6: f32, s7: f32,
): void {
  const v0 = f32x4.splat(s0);
  const v1 = f32x4.splat(s1);
  const v2 = f32x4.splat(s2);
  const v3 = f32x4.splat(s3);
  const v4 = f32x4.splat(s4);
  const v5 = f32x4.splat(s5);
  const v6 = f32x4.splat(s6);
  const v7 = f32x4.splat(s7);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    let a = init ? v128.load(out + o) : f32x4.splat(0);
    a = f32x4.add(a, f32x4.mul(v0, v128.load(c0 + o)));
    a = f32x4.add(a, f32x4.mul(v1, v128.load(c1 + o)));
    a = f32x4.add(a, f32x4.mul(v2, v128.load(c2 + o)));
    a = f32x4.add(a, f32x4.mul(v3, v128.load(c3 + o)));
    a = f32x4.add(a, f32x4.mul(v4, v128.load(c4 + o)));
    a = f32x4.add(a, f32x4.mul(v5, v128.load(c5 + o)));
    a = f32x4.add(a, f32x4.mul(v6, v128.load(c6 + o)));
    a = f32x4.add(a, f32x4.mul(v7, v128.load(c7 + o)));
    v128.store(out + o, a);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let a: f32 = init ? load<f32>(out + o) : 0;
    a += s0 * load<f32>(c0 + o);
    a += s1 * load<f32>(c1 + o);
    a += s2 * load<f32>(c2 + o);
    a += s3 * load<f32>(c3 + o);
    a += s4 * load<f32>(c4 + o);
    a += s5 * load<f32>(c5 + o);
    a += s6 * load<f32>(c6 + o);
    a += s7 * load<f32>(c7 + o);
    store<f32>(out + o, a);
  }
}

/** One pass with 4 columns (the 4..7-column tail). */
@inline
function pass4(out: usize, n: i32, init: bool, c0: usize, c1: usize, c2: usize, c3: usize, s0: f32, s1: f32, s2: f32, s3: f32): void {
  const v0 = f32x4.splat(s0);
  const v1 = f32x4.splat(s1);
  const v2 = f32x4.splat(s2);
  const v3 = f32x4.splat(s3);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    let a = init ? v128.load(out + o) : f32x4.splat(0);
    a = f32x4.add(a, f32x4.mul(v0, v128.load(c0 + o)));
    a = f32x4.add(a, f32x4.mul(v1, v128.load(c1 + o)));
    a = f32x4.add(a, f32x4.mul(v2, v128.load(c2 + o)));
    a = f32x4.add(a, f32x4.mul(v3, v128.load(c3 + o)));
    v128.store(out + o, a);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let a: f32 = init ? load<f32>(out + o) : 0;
    a += s0 * load<f32>(c0 + o);
    a += s1 * load<f32>(c1 + o);
    a += s2 * load<f32>(c2 + o);
    a += s3 * load<f32>(c3 + o);
    store<f32>(out + o, a);
  }
}

/** One pass with 1 column (the last 1..3 columns). */
@inline
function pass1(out: usize, n: i32, init: bool, c0: usize, s0: f32): void {
  const v0 = f32x4.splat(s0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const a = init ? v128.load(out + o) : f32x4.splat(0);
    v128.store(out + o, f32x4.add(a, f32x4.mul(v0, v128.load(c0 + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const a: f32 = init ? load<f32>(out + o) : 0;
    store<f32>(out + o, a + s0 * load<f32>(c0 + o));
  }
}

@inline
function col(colsPtr: usize, colBytes: usize, idxPtr: usize, k: i32): usize {
  return colsPtr + <usize>load<i32>(idxPtr + (<usize>k << 2)) * colBytes;
}

@inline
function val(valPtr: usize, k: i32): f32 {
  return load<f32>(valPtr + (<usize>k << 2));
}

/**
 * out[i] = Σ_k val[k] · cols[idx[k]·stride + i] for i < n (see the header for
 * the order). cols: column-major, column j at colsPtr + j·stride·4; idx: nnz
 * i32 column numbers; val: nnz f32 weights; out: n f32.
 */
export function columnScoresF32(colsPtr: usize, stride: i32, n: i32, idxPtr: usize, valPtr: usize, nnz: i32, outPtr: usize): void {
  if (n <= 0) return;
  if (nnz <= 0) {
    memory.fill(outPtr, 0, <usize>n << 2);
    return;
  }
  const cb = <usize>stride << 2;
  let k = 0;
  let init = false;
  for (; k + 8 <= nnz; k += 8) {
    pass8(
      outPtr, n, init,
      col(colsPtr, cb, idxPtr, k), col(colsPtr, cb, idxPtr, k + 1), col(colsPtr, cb, idxPtr, k + 2), col(colsPtr, cb, idxPtr, k + 3),
      col(colsPtr, cb, idxPtr, k + 4), col(colsPtr, cb, idxPtr, k + 5), col(colsPtr, cb, idxPtr, k + 6), col(colsPtr, cb, idxPtr, k + 7),
      val(valPtr, k), val(valPtr, k + 1), val(valPtr, k + 2), val(valPtr, k + 3),
      val(valPtr, k + 4), val(valPtr, k + 5), val(valPtr, k + 6), val(valPtr, k + 7),
    );
    init = true;
  }
  if (k + 4 <= nnz) {
    pass4(
      outPtr, n, init,
      col(colsPtr, cb, idxPtr, k), col(colsPtr, cb, idxPtr, k + 1), col(colsPtr, cb, idxPtr, k + 2), col(colsPtr, cb, idxPtr, k + 3),
      val(valPtr, k), val(valPtr, k + 1), val(valPtr, k + 2), val(valPtr, k + 3),
    );
    init = true;
    k += 4;
  }
  for (; k < nnz; k++) {
    pass1(outPtr, n, init, col(colsPtr, cb, idxPtr, k), val(valPtr, k));
    init = true;
  }
}

/**
 * The query's nonzero dims, in dim order: writes their numbers to idx and
 * their values to val (each room for dim entries) and returns how many.
 * NaN is nonzero (it is kept and propagates); ±0 is dropped.
 */
export function nonzeroDimsF32(queryPtr: usize, dim: i32, idxPtr: usize, valPtr: usize): i32 {
  let m = 0;
  for (let j = 0; j < dim; j++) {
    const v = load<f32>(queryPtr + (<usize>j << 2));
    if (v != 0) {
      store<i32>(idxPtr + (<usize>m << 2), j);
      store<f32>(valPtr + (<usize>m << 2), v);
      m++;
    }
  }
  return m;
}

/**
 * Writes n row-major rows (n × dim, at rowsPtr) into a column-major matrix:
 * row i, dim j goes to colsPtr + (j·stride + i)·4. Pass colsPtr + r·4 to
 * write rows starting at row r (how a store appends one row).
 */
export function rowsToColumnsF32(rowsPtr: usize, n: i32, dim: i32, colsPtr: usize, stride: i32): void {
  const cb = <usize>stride << 2;
  for (let i = 0; i < n; i++) {
    const r = rowsPtr + ((<usize>i * <usize>dim) << 2);
    const o = colsPtr + (<usize>i << 2);
    for (let j = 0; j < dim; j++) store<f32>(o + <usize>j * cb, load<f32>(r + (<usize>j << 2)));
  }
}
