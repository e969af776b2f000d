// protocol/safetensors.ts: round trips, and property-style checks that
// random, truncated and lying frames are rejected with SafetensorsError —
// never another exception, never an allocation of a declared size.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DTYPE_BYTES, parseSafetensors, readF32, readI32, requireTensor, SafetensorsError, writeSafetensors, type Dtype, type TensorInput } from "../../protocol/safetensors";

/** A frame with a hand-written header (for lying headers). */
function frame(header: unknown, data: Uint8Array = new Uint8Array(0), headerLen?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen ?? json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function rejects(bytes: Uint8Array, pattern: RegExp, limits = {}) {
  expect(() => parseSafetensors(bytes, limits)).toThrow(SafetensorsError);
  expect(() => parseSafetensors(bytes, limits)).toThrow(pattern);
}

const tensorArb = fc
  .tuple(fc.constantFrom<Dtype>("F32", "I32", "U8", "F64", "I8", "U16"), fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }))
  .chain(([dtype, shape]) => {
    const bytes = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    // Float bytes drawn from finite values so the default finiteness check passes.
    const data = dtype === "F32" ? fc.float32Array({ noNaN: true, noDefaultInfinity: true, minLength: bytes / 4, maxLength: bytes / 4 }).map((a) => new Uint8Array(a.buffer))
      : dtype === "F64" ? fc.float64Array({ noNaN: true, noDefaultInfinity: true, minLength: bytes / 8, maxLength: bytes / 8 }).map((a) => new Uint8Array(a.buffer))
      : fc.uint8Array({ minLength: bytes, maxLength: bytes });
    return data.map((d) => ({ dtype, shape, data: d }));
  });

describe("safetensors parser and writer", () => {
  it("round-trips random tensors and metadata", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== "__metadata__"), tensorArb, { maxKeys: 6 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), (tensors, meta) => {
        const entries = Object.entries(tensors) as [string, TensorInput][];
        const bytes = writeSafetensors(entries, meta);
        const file = parseSafetensors(bytes);
        expect(file.tensors.size).toBe(entries.length);
        expect(file.metadata).toEqual(Object.keys(meta).length ? meta : {});
        for (const [name, t] of entries) {
          const got = file.tensors.get(name)!;
          expect(got.dtype).toBe(t.dtype);
          expect(got.shape).toEqual([...t.shape]);
          expect([...got.bytes]).toEqual([...new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("reads F32 and I32 into aligned copies and checks names, dtypes and shapes", () => {
    const f = parseSafetensors(writeSafetensors([["a", { dtype: "I32", shape: [3], data: new Int32Array([1, -2, 3]) }], ["b", { dtype: "F32", shape: [2, 1], data: new Float32Array([0.5, -1]) }]]));
    expect([...readI32(requireTensor(f, "a", "I32", [3]))]).toEqual([1, -2, 3]);
    expect([...readF32(requireTensor(f, "b", "F32", [2, null]))]).toEqual([0.5, -1]);
    expect(() => requireTensor(f, "c", "F32")).toThrow(/missing tensor "c"/);
    expect(() => requireTensor(f, "a", "F32")).toThrow(/dtype I32, expected F32/);
    expect(() => requireTensor(f, "b", "F32", [1, 2])).toThrow(/shape \[2,1\], expected \[1,2\]/);
  });

  it("never throws anything but SafetensorsError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseSafetensors(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(SafetensorsError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("rejects every truncation and every corrupted byte of a valid frame with a SafetensorsError or parses consistently", () => {
    const good = writeSafetensors([["x", { dtype: "F32", shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }], ["p", { dtype: "I32", shape: [2], data: new Int32Array([0, 9]) }]], { k: "v" });
    for (let n = 0; n < good.length; n++) expect(() => parseSafetensors(good.subarray(0, n))).toThrow(SafetensorsError);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const bad = good.slice();
        bad[at] = byte;
        try {
          const f = parseSafetensors(bad);
          // A corruption that still parses must still be self-consistent.
          for (const t of f.tensors.values()) expect(t.bytes.byteLength).toBe(t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype]);
        } catch (e) {
          expect(e).toBeInstanceOf(SafetensorsError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("rejects lying headers with a message that says what is wrong", () => {
    const data = new Uint8Array(16);
    rejects(new Uint8Array(5), /truncated frame: 5 bytes/);
    rejects(frame({}, new Uint8Array(0), 100), /header declares 100 bytes but only 2 follow/);
    rejects(frame("{not json"), /not valid UTF-8 JSON/);
    rejects(frame("[]"), /must be a JSON object/);
    rejects(frame({ x: { dtype: "F32", shape: [4], data_offsets: [0, 32] } }, data), /past the end/);
    rejects(frame({ x: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, y: { dtype: "F32", shape: [4], data_offsets: [4, 20] } }, new Uint8Array(20)), /overlaps/);
    rejects(frame({ x: { dtype: "F32", shape: [2], data_offsets: [8, 16] } }, data), /hole/);
    rejects(frame({ x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, data), /8 trailing bytes/);
    rejects(frame({ x: { dtype: "F32", shape: [3], data_offsets: [0, 16] } }, data), /16 bytes for F32 \[3\], expected 12/);
    rejects(frame({ x: { dtype: "Q4_K", shape: [4], data_offsets: [0, 16] } }, data), /unknown dtype "Q4_K"/);
    rejects(frame({ x: { dtype: "F32", shape: [-1], data_offsets: [0, 16] } }, data), /non-negative integers/);
    rejects(frame({ x: { dtype: "F32", shape: [4], data_offsets: [8, 4] } }, data), /0 ≤ begin ≤ end/);
    rejects(frame({ x: { dtype: "F32", shape: "4", data_offsets: [0, 16] } }, data), /shape must be an array/);
    rejects(frame({ __metadata__: { a: 1 } }), /__metadata__.a must be a string/);
    rejects(frame({ x: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, new Uint8Array(new Float32Array([1, NaN, 2, 3]).buffer)), /non-finite value at element 1/);
    rejects(frame({ x: { dtype: "F16", shape: [1], data_offsets: [0, 2] } }, new Uint8Array([0x00, 0x7c])), /non-finite/);
    expect(() => parseSafetensors(frame({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(new Float32Array([Infinity]).buffer)), { allowNonFinite: true })).not.toThrow();
  });

  it("treats prototype-looking names as plain keys", () => {
    const bytes = writeSafetensors([["__proto__", { dtype: "U8", shape: [2], data: new Uint8Array([7, 8]) }]], JSON.parse('{"__proto__": "m", "toString": "t"}') as Record<string, string>);
    const f = parseSafetensors(bytes);
    expect([...f.tensors.get("__proto__")!.bytes]).toEqual([7, 8]);
    expect(f.metadata.toString).toBe("t");
    expect(Object.getOwnPropertyDescriptor(f.metadata, "__proto__")?.value).toBe("m");
    rejects(frame({ x: { dtype: "constructor", shape: [0], data_offsets: [0, 0] } }), /unknown dtype "constructor"/);
    rejects(frame({ x: { dtype: "__proto__", shape: [0], data_offsets: [0, 0] } }), /unknown dtype "__proto__"/);
  });

  it("rejects huge declared sizes without allocating them", () => {
    const data = new Uint8Array(16);
    const before = process.memoryUsage().arrayBuffers;
    rejects(frame({ x: { dtype: "F64", shape: [2 ** 26, 2 ** 26], data_offsets: [0, 2 ** 55] } }, data), /needs more bytes than the 16-byte data buffer/);
    rejects(frame({ x: { dtype: "F32", shape: [2 ** 40], data_offsets: [0, 2 ** 42] } }, data), /needs more bytes/);
    rejects(frame({ x: { dtype: "F32", shape: [9007199254740993], data_offsets: [0, 16] } }, data), /non-negative integers/);
    // A header length with the high word set (≥ 4 GiB), and one over the limit.
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(4, 1, true);
    rejects(huge, /exceeds the limit/);
    rejects(frame({}, new Uint8Array(0), 2 ** 31), /exceeds the limit of 1024 bytes/, { maxHeaderBytes: 1024 });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it("accepts zero-size tensors, even with a huge other dimension", () => {
    const f = parseSafetensors(frame({ x: { dtype: "F32", shape: [2 ** 40, 0], data_offsets: [0, 0] } }));
    expect(f.tensors.get("x")!.bytes.byteLength).toBe(0);
  });

  it("the writer refuses data whose length does not match dtype × shape", () => {
    expect(() => writeSafetensors([["x", { dtype: "F32", shape: [3], data: new Float32Array(2) }]])).toThrow(/8 bytes for F32 \[3\], expected 12/);
    expect(() => writeSafetensors([["__metadata__", { dtype: "U8", shape: [0], data: new Uint8Array(0) }]])).toThrow(/not a tensor name/);
  });
});
