import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { blobDim, fromBlob, readBlobInto, toBlob } from "../../durable-objects/storage/vector-blob";

const bitsOf = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

describe("vector blobs (durable-objects/storage/vector-blob.ts)", () => {
  it("round-trips every bit, sparse when that is smaller (any dims, -0 kept, zeros dropped)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.array(fc.tuple(fc.nat(), fc.float({ noNaN: true })), { maxLength: 120 }), (dim, entries) => {
        const v = new Float32Array(dim);
        for (const [j, x] of entries) v[j % dim] = x;
        const blob = toBlob(v);
        let nnz = 0;
        for (const b of bitsOf(v)) if (b !== 0) nnz++;
        expect(blob.byteLength).toBe(Math.min(4 * dim, 8 + 6 * nnz < 4 * dim ? 8 + 6 * nnz : 4 * dim));
        expect(blobDim(blob)).toBe(dim);
        expect(bitsOf(fromBlob(blob))).toEqual(bitsOf(v));
        const out = new Float32Array(dim).fill(7); // stale contents are overwritten
        expect(bitsOf(readBlobInto(blob, out))).toEqual(bitsOf(v));
      }),
    );
  });

  it("keeps -0 and reads dense blobs as they were always stored (a view, no copy)", () => {
    const v = new Float32Array(384);
    v[3] = -0;
    v[200] = 0.25;
    expect(bitsOf(fromBlob(toBlob(v)))).toEqual(bitsOf(v));
    expect(toBlob(v).byteLength).toBe(8 + 6 * 2);
    const dense = Float32Array.from({ length: 384 }, (_, i) => i + 1);
    const blob = toBlob(dense);
    expect(blob).toBe(dense.buffer); // the vector's own buffer: bound without a copy
    expect(fromBlob(blob).buffer).toBe(blob);
    const sub = new Float32Array(new ArrayBuffer(4 * 400), 16, 384);
    sub.set(dense);
    expect(Array.from(fromBlob(toBlob(sub)))).toEqual(Array.from(dense));
  });

  it("refuses a destination of the wrong length", () => {
    const blob = toBlob(new Float32Array(384));
    expect(() => readBlobInto(blob, new Float32Array(383))).toThrow(/384 dims/);
  });
});
