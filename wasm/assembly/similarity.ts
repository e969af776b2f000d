// Similarity scans: one or a few fp32 queries against N row-major fp32 rows.
//
// The scan is memory bound (each row is read once). Within a row: 16 floats
// per step into four independent accumulators (baseline WASM SIMD has no FMA,
// so independent add chains hide the add latency). Across rows: the matrix is
// cut into four quarters scanned in lockstep, four independent sequential
// streams that keep more DRAM reads in flight. Measured here (EPYC, Node 20,
// 100k × 384): one stream ~21 GB/s, four quarter streams ~24–32 GB/s, while
// interleaving four *adjacent* rows (sharing the query loads) fell to ~8 GB/s
// (the prefetcher does not follow that pattern). Rows need no alignment
// (dim may be any size ≥ 1; the dim % 4 tail is scalar).
//
// Non-finite inputs follow IEEE arithmetic (NaN propagates, ±Inf may give
// ±Inf or NaN); callers that rank the scores use topK, which puts NaN last.

@inline
function hsum(a: v128): f32 {
  return f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3);
}

/** dot(q, row): 16 lanes per step in four accumulators, then 4 lanes, then the scalar tail. */
@inline
function dotOne(q: usize, row: usize, dim: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let j = 0;
  for (; j + 16 <= dim; j += 16) {
    const qo = q + (<usize>j << 2);
    const ro = row + (<usize>j << 2);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(qo), v128.load(ro)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(qo, 16), v128.load(ro, 16)));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(qo, 32), v128.load(ro, 32)));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(qo, 48), v128.load(ro, 48)));
  }
  for (; j + 4 <= dim; j += 4) {
    const off = <usize>j << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q + off), v128.load(row + off)));
  }
  let s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
  for (; j < dim; j++) {
    const off = <usize>j << 2;
    s += load<f32>(q + off) * load<f32>(row + off);
  }
  return s;
}

/** out[i] = dot(query, rows[i]) for i < n; rows are n × dim, row-major. */
export function dotRowsF32(queryPtr: usize, rowsPtr: usize, n: i32, dim: i32, outPtr: usize): void {
  const rowBytes = <usize>dim << 2;
  const h = n >> 2; // rows per stream
  for (let i = 0; i < h; i++) {
    for (let s = 0; s < 4; s++) {
      const r = i + s * h;
      store<f32>(outPtr + (<usize>r << 2), dotOne(queryPtr, rowsPtr + <usize>r * rowBytes, dim));
    }
  }
  for (let r = 4 * h; r < n; r++) {
    store<f32>(outPtr + (<usize>r << 2), dotOne(queryPtr, rowsPtr + <usize>r * rowBytes, dim));
  }
}

/** All nq queries against row r (in L1 after the first): out[qi * n + r]. */
@inline
function batchRow(queriesPtr: usize, nq: i32, rowsPtr: usize, n: i32, dim: i32, outPtr: usize, r: i32): void {
  const rowBytes = <usize>dim << 2;
  const row = rowsPtr + <usize>r * rowBytes;
  for (let qi = 0; qi < nq; qi++) {
    store<f32>(outPtr + ((<usize>qi * <usize>n + <usize>r) << 2), dotOne(queriesPtr + <usize>qi * rowBytes, row, dim));
  }
}

/**
 * out[qi * n + i] = dot(queries[qi], rows[i]) for nq queries (nq × dim).
 * Every query is applied to a row while it is in L1, so the rows are read
 * from memory once for all queries (same four streams as dotRowsF32).
 */
export function dotRowsBatchF32(queriesPtr: usize, nq: i32, rowsPtr: usize, n: i32, dim: i32, outPtr: usize): void {
  const h = n >> 2;
  for (let i = 0; i < h; i++) {
    for (let s = 0; s < 4; s++) batchRow(queriesPtr, nq, rowsPtr, n, dim, outPtr, i + s * h);
  }
  for (let r = 4 * h; r < n; r++) batchRow(queriesPtr, nq, rowsPtr, n, dim, outPtr, r);
}

/** cos(q, row) given |q|: one pass computes dot and |row|² together; 0 where a norm is 0. */
@inline
function cosOne(q: usize, qNorm: f32, row: usize, dim: i32): f32 {
  let d0 = f32x4.splat(0);
  let d1 = f32x4.splat(0);
  let n0 = f32x4.splat(0);
  let n1 = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= dim; j += 8) {
    const qo = q + (<usize>j << 2);
    const ro = row + (<usize>j << 2);
    const r0 = v128.load(ro);
    const r1 = v128.load(ro, 16);
    d0 = f32x4.add(d0, f32x4.mul(v128.load(qo), r0));
    d1 = f32x4.add(d1, f32x4.mul(v128.load(qo, 16), r1));
    n0 = f32x4.add(n0, f32x4.mul(r0, r0));
    n1 = f32x4.add(n1, f32x4.mul(r1, r1));
  }
  for (; j + 4 <= dim; j += 4) {
    const off = <usize>j << 2;
    const r = v128.load(row + off);
    d0 = f32x4.add(d0, f32x4.mul(v128.load(q + off), r));
    n0 = f32x4.add(n0, f32x4.mul(r, r));
  }
  let d = hsum(f32x4.add(d0, d1));
  let rr = hsum(f32x4.add(n0, n1));
  for (; j < dim; j++) {
    const off = <usize>j << 2;
    const x = load<f32>(row + off);
    d += load<f32>(q + off) * x;
    rr += x * x;
  }
  const denom = qNorm * sqrt<f32>(rr);
  return denom == 0 ? 0 : d / denom;
}

/** out[i] = cos(query, rows[i]); 0 where the query or the row has norm 0. Same four streams as dotRowsF32. */
export function cosineRowsF32(queryPtr: usize, rowsPtr: usize, n: i32, dim: i32, outPtr: usize): void {
  const rowBytes = <usize>dim << 2;
  const qNorm = sqrt<f32>(dotOne(queryPtr, queryPtr, dim));
  const h = n >> 2;
  for (let i = 0; i < h; i++) {
    for (let s = 0; s < 4; s++) {
      const r = i + s * h;
      store<f32>(outPtr + (<usize>r << 2), cosOne(queryPtr, qNorm, rowsPtr + <usize>r * rowBytes, dim));
    }
  }
  for (let r = 4 * h; r < n; r++) {
    store<f32>(outPtr + (<usize>r << 2), cosOne(queryPtr, qNorm, rowsPtr + <usize>r * rowBytes, dim));
  }
}

/**
 * Memory roofline of the scans, for the benchmark only (not part of the
 * kernel contract): reads the n × dim f32 rows as `streams` parts in
 * lockstep, as dotRowsF32 does with four, adding every 16 bytes as integers
 * (one add per load, no query loads, no multiplies); returns the sum so the
 * reads cannot be optimised away. Rows beyond streams·⌊n/streams⌋ are not read.
 */
export function readRowsRooflineF32(rowsPtr: usize, n: i32, dim: i32, streams: i32): i32 {
  const rowBytes = <usize>dim << 2;
  const s = max(streams, 1);
  const h = n / s;
  const part = <usize>h * rowBytes;
  const body = rowBytes & ~(<usize>63);
  let a0 = i32x4.splat(0);
  let a1 = i32x4.splat(0);
  let a2 = i32x4.splat(0);
  let a3 = i32x4.splat(0);
  for (let i = 0; i < h; i++) {
    for (let p = 0; p < s; p++) {
      const row = rowsPtr + <usize>p * part + <usize>i * rowBytes;
      for (let off: usize = 0; off < body; off += 64) {
        a0 = i32x4.add(a0, v128.load(row + off));
        a1 = i32x4.add(a1, v128.load(row + off, 16));
        a2 = i32x4.add(a2, v128.load(row + off, 32));
        a3 = i32x4.add(a3, v128.load(row + off, 48));
      }
    }
  }
  const a = i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3));
  return i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
}
