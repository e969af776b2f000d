// SHA-256 (FIPS 180-4) in plain TypeScript, synchronous.
//
// The hash chain (durable-objects/conversation/hash-chain.ts) and API-key lookup
// (worker/auth) hash a few short strings per request. WebCrypto's digest is
// asynchronous and node:crypto's createHash builds a stream object per call
// (it needs the nodejs_compat flag, and cost ≈ 0.2 ms per turn in a workerd
// CPU profile); this runs in microseconds for such inputs. Tested against
// node:crypto and WebCrypto on random and boundary lengths
// (test/node/sha256.test.ts, test/worker/sha256.test.ts).

// Int32Array throughout: every value stays a small integer to the JIT (a
// Uint32Array or plain array yields doubles above 2^31, which deoptimises).
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const INITIAL = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const encoder = new TextEncoder();
const schedule = new Int32Array(64);
const state = new Int32Array(8);
/**
 * The message and its padding, reused by every hash up to its size (larger
 * inputs get a buffer of their own): a hash allocates nothing but its
 * result. An import hashes each message several times (digest, chain
 * values), and the per-call buffers were most of what it allocated
 * (docs/memory.md).
 */
const SHARED_BYTES = 4096;
const shared = new Uint8Array(SHARED_BYTES);

function buffer(bytes: number): Uint8Array {
  return bytes <= SHARED_BYTES ? shared : new Uint8Array(bytes);
}

/** Bytes of a message of `length` bytes once padded: the message, 0x80, zeros, then its bit length as a 64-bit big-endian integer. */
function paddedLength(length: number): number {
  return Math.ceil((length + 9) / 64) * 64;
}

/** Pads the first `length` bytes of `padded` in place and hashes them into `state`. */
function compress(padded: Uint8Array, length: number): void {
  const total = paddedLength(length);
  padded[length] = 0x80;
  padded.fill(0, length + 1, total - 8);
  const high = Math.floor(length / 0x20000000), low = (length * 8) >>> 0;
  for (let i = 0; i < 4; i++) {
    padded[total - 8 + i] = (high >>> (24 - 8 * i)) & 0xff;
    padded[total - 4 + i] = (low >>> (24 - 8 * i)) & 0xff;
  }
  const blocks = total / 64;

  const h = state;
  h.set(INITIAL);
  const w = schedule;
  for (let block = 0; block < blocks; block++) {
    const base = block * 64;
    for (let t = 0; t < 16; t++) {
      const i = base + 4 * t;
      w[t] = (padded[i]! << 24) | (padded[i + 1]! << 16) | (padded[i + 2]! << 8) | padded[i + 3]!;
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15]!, y = w[t - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
    }
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
    for (let t = 0; t < 64; t++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + s1 + ch + K[t]! + w[t]!) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (s0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
    h[5] = h[5]! + f;
    h[6] = h[6]! + g;
    h[7] = h[7]! + hh;
  }
}

/** Byte i (0..31) of the digest in `state`, big-endian. */
function digestByte(i: number): number {
  return (state[i >> 2]! >>> (24 - 8 * (i & 3))) & 0xff;
}

function digestBytes(): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = digestByte(i);
  return out;
}

/** SHA-256 of bytes, as 32 bytes. */
export function sha256(bytes: Uint8Array): Uint8Array {
  const padded = buffer(paddedLength(bytes.length));
  padded.set(bytes);
  compress(padded, bytes.length);
  return digestBytes();
}

/** Hashes a string's UTF-8 bytes into `state`. */
function hashText(text: string): void {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  const padded = buffer(paddedLength(3 * text.length));
  const { written } = encoder.encodeInto(text, padded);
  compress(padded, written);
}

/** SHA-256 of a string's UTF-8 bytes. */
export function sha256Text(text: string): Uint8Array {
  hashText(text);
  return digestBytes();
}

/** Character codes of a hex digest, one reused array per length asked for (one string per digest, not one per byte). */
const hexCodes = new Map<number, number[]>();
const HEX_DIGITS = "0123456789abcdef";

/** The first `hexChars` (even, at most 64) lower-case hex digits of sha256Text(text), built without the bytes. */
export function sha256TextHex(text: string, hexChars = 64): string {
  hashText(text);
  let codes = hexCodes.get(hexChars);
  if (!codes) hexCodes.set(hexChars, (codes = new Array<number>(hexChars).fill(0)));
  for (let i = 0; i < hexChars; i++) codes[i] = HEX_DIGITS.charCodeAt((digestByte(i >> 1) >> (i & 1 ? 0 : 4)) & 15);
  return String.fromCharCode.apply(null, codes);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX[b];
  return s;
}
