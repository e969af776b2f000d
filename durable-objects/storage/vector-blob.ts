// How an fp32 vector (a segment embedding, an episode centroid) is stored
// as a SQLite blob.
//
// Every blob read back from SQLite is a fresh ArrayBuffer outside the JS
// heap, and V8 frees dead ones only at its next collection, which external
// bytes barely hasten: the index builds and re-clusterings read every
// segment's blob, and those reads were most of the isolate's peak memory
// (docs/memory.md). So a vector with few nonzero dims, as the hashing
// embedder's are (a segment of chat text touches a few dozen of 384
// buckets), is stored sparse, which is exact and about 6–8× smaller:
//
//   dense:  dim × f32 (what older rows hold, and vectors with many nonzeros)
//   sparse: u32 0xFFFFFFFF (a NaN pattern, never a stored dense value),
//           u32 dim, nnz × f32 values, nnz × u16 dims (ascending)
//
// A dim is stored when its bits are nonzero (so -0 stays -0): decoding
// gives back the same bits in every dim.
const SPARSE_MARK = 0xffffffff;
const HEADER_BYTES = 8;

/** The blob for `vec`: sparse when that is smaller, else the dense bytes (the vector's own buffer when it owns all of it, no copy). */
export function toBlob(vec: Float32Array): ArrayBuffer {
  const bits = new Uint32Array(vec.buffer, vec.byteOffset, vec.length);
  let nnz = 0;
  for (let j = 0; j < bits.length; j++) if (bits[j] !== 0) nnz++;
  if (vec.length <= 0xffff && HEADER_BYTES + 6 * nnz < vec.byteLength) {
    const blob = new ArrayBuffer(HEADER_BYTES + 6 * nnz);
    const header = new Uint32Array(blob, 0, 2);
    header[0] = SPARSE_MARK;
    header[1] = vec.length;
    const values = new Uint32Array(blob, HEADER_BYTES, nnz);
    const dims = new Uint16Array(blob, HEADER_BYTES + 4 * nnz, nnz);
    for (let j = 0, k = 0; j < bits.length; j++) {
      if (bits[j] === 0) continue;
      values[k] = bits[j]!;
      dims[k++] = j;
    }
    return blob;
  }
  if (vec.byteOffset === 0 && vec.byteLength === vec.buffer.byteLength) return vec.buffer as ArrayBuffer;
  return vec.buffer.slice(vec.byteOffset, vec.byteOffset + vec.byteLength) as ArrayBuffer;
}

/** Dimensions of the vector a blob holds. */
export function blobDim(blob: ArrayBuffer): number {
  const header = sparseHeader(blob);
  return header ? header[1]! : blob.byteLength >> 2;
}

/** Decodes `blob` into `out` (length: the blob's dim); returns out. */
export function readBlobInto(blob: ArrayBuffer, out: Float32Array): Float32Array {
  const header = sparseHeader(blob);
  const dim = header ? header[1]! : blob.byteLength >> 2;
  if (dim !== out.length) throw new RangeError(`vector blob holds ${dim} dims, expected ${out.length}`);
  if (!header) {
    out.set(new Float32Array(blob, 0, dim));
    return out;
  }
  // A float32 read and written back keeps its bits (-0 included; stored values are never NaN).
  const nnz = (blob.byteLength - HEADER_BYTES) / 6;
  const values = new Float32Array(blob, HEADER_BYTES, nnz);
  const dims = new Uint16Array(blob, HEADER_BYTES + 4 * nnz, nnz);
  out.fill(0);
  for (let k = 0; k < nnz; k++) out[dims[k]!] = values[k]!;
  return out;
}

/** The vector a blob holds: a view of a dense blob (no copy), a fresh array for a sparse one. */
export function fromBlob(blob: ArrayBuffer): Float32Array {
  const header = sparseHeader(blob);
  return header ? readBlobInto(blob, new Float32Array(header[1]!)) : new Float32Array(blob);
}

/** The sparse header (mark, dim), or null for a dense blob. */
function sparseHeader(blob: ArrayBuffer): Uint32Array | null {
  if (blob.byteLength < HEADER_BYTES || (blob.byteLength - HEADER_BYTES) % 6 !== 0) return null;
  const header = new Uint32Array(blob, 0, 2);
  return header[0] === SPARSE_MARK ? header : null;
}
