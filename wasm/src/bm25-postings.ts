// The postings format of the BM25 kernel (wasm/assembly/bm25.ts, docs/kernels.md):
// compressed as inverted files usually are (Zobel & Moffat, "Inverted files
// for text search engines", 2006, §5). A term's postings, ascending by
// document, are each
//   varint(gap << 1 | (tf > 1 ? 1 : 0)), then one byte tf when tf > 1,
// where gap = document − the previous posting's document (the first one's:
// document + 1), so gap ≥ 1 and a posting never starts with a zero byte: zero
// bytes between postings are padding (the lexical index's block ends) and
// are skipped. Documents < 2^24 keep a varint to 4 bytes. Most postings of a
// conversation take 1–2 bytes instead of 4.

/** The largest encoded posting: 4 varint bytes (gap < 2^24) and a tf byte. */
export const MAX_POSTING_BYTES = 5;

/** Writes one posting at bytes[at] (gap ≥ 1, tf 1..255); returns the offset after it. */
export function writePosting(bytes: Uint8Array, at: number, gap: number, tf: number): number {
  let v = (gap * 2 + (tf > 1 ? 1 : 0)) >>> 0;
  while (v >= 0x80) {
    bytes[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  bytes[at++] = v;
  if (tf > 1) bytes[at++] = tf;
  return at;
}

/** One term's postings, encoded: (document, tf) pairs with ascending documents and tf 1..255. */
export function encodePostings(postings: readonly (readonly [number, number])[]): Uint8Array {
  const out = new Uint8Array(postings.length * MAX_POSTING_BYTES);
  let at = 0;
  let previous = -1;
  for (const [doc, tf] of postings) {
    if (!(doc > previous) || !(tf >= 1 && tf <= 255)) throw new RangeError(`postings: document ${doc} after ${previous}, tf ${tf}`);
    at = writePosting(out, at, doc - previous, tf);
    previous = doc;
  }
  return out.slice(0, at);
}

/**
 * Visits the postings in bytes[from, to) of one term, in order. Returns -1, or the offset of the
 * first malformed posting (truncated, a zero gap, a varint past 4 bytes, a tf byte of 0 or 1, a
 * document ≥ documents), where the kernel stops too.
 */
export function visitPostings(bytes: Uint8Array, from: number, to: number, documents: number, visit: (doc: number, tf: number) => void): number {
  let doc = -1;
  let p = from;
  while (p < to) {
    if (bytes[p] === 0) {
      p++;
      continue;
    }
    const start = p;
    let v = 0;
    let shift = 0;
    let byte = 0x80;
    while (byte & 0x80) {
      if (p >= to || shift > 21) return start;
      byte = bytes[p++]!;
      v |= (byte & 0x7f) << shift;
      shift += 7;
    }
    const gap = v >>> 1;
    let tf = 1;
    if (v & 1) {
      if (p >= to) return start;
      tf = bytes[p++]!;
      if (tf < 2) return start;
    }
    if (gap === 0 || doc + gap >= documents) return start;
    doc += gap;
    visit(doc, tf);
  }
  return -1;
}

/** A term's postings as (document, tf) pairs (tests, tools); throws on a malformed one. */
export function decodePostings(bytes: Uint8Array, documents = 2 ** 24): [number, number][] {
  const out: [number, number][] = [];
  const bad = visitPostings(bytes, 0, bytes.length, documents, (doc, tf) => out.push([doc, tf]));
  if (bad >= 0) throw new RangeError(`postings: malformed posting at byte ${bad}`);
  return out;
}
