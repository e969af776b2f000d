// Per-message metadata a turn's selection needs (token weight and tool-unit
// head of every stored message), mirrored in memory so that widening ranked
// segments to whole tool units costs no SQL. The segments a turn ranks are
// scattered over the whole conversation; reading their rows from SQLite took
// one page read per segment per turn (profiled: ≈ 4 ms of a 100k-message
// turn), whereas this mirror answers in O(span).
//
// Memory: 8 bytes per message (two Int32Array columns, capacity doubling),
// 0.8 MB at 100k messages — a hundredth of what the segment embeddings take.
// Built from SQLite on first use (one pass, batches), appended after each
// committed write, dropped with the object. Seqs are dense from 0 (messages
// are only ever appended), so seq is the array index.
import type { MessageMetaRow } from "../conversation/conversation-store";

const INITIAL_CAPACITY = 1024;

export class MessageMeta {
  private weights = new Int32Array(INITIAL_CAPACITY);
  private heads = new Int32Array(INITIAL_CAPACITY);
  private n = 0;
  private smallest = Infinity;

  get count(): number {
    return this.n;
  }

  /** The smallest weight appended (Infinity before the first): no stored message weighs less, whatever was dropped since. */
  get minWeight(): number {
    return this.smallest;
  }

  /** Bytes held by the two columns. */
  get bytes(): number {
    return this.weights.byteLength + this.heads.byteLength;
  }

  /** Appends the next message (its seq must equal count: seqs are dense). */
  append(seq: number, weight: number, unitHead: number): void {
    if (seq !== this.n) throw new RangeError(`message meta out of order: seq ${seq}, expected ${this.n}`);
    if (this.n === this.weights.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.weights = grow(this.weights);
      this.heads = grow(this.heads);
    }
    this.weights[this.n] = weight;
    if (weight < this.smallest) this.smallest = weight;
    this.heads[this.n] = unitHead;
    this.n++;
  }

  /**
   * [first, last] widened to whole tool units on both ends (units are
   * contiguous runs sharing a head, tool-units.ts): the same rows as
   * ConversationStore.unitWidenedMeta.
   */
  unitWidened(first: number, last: number): MessageMetaRow[] {
    if (first < 0 || last >= this.n || first > last) throw new RangeError(`span [${first}, ${last}] outside the ${this.n} stored messages`);
    const from = Math.min(first, this.heads[first]!);
    const lastHead = this.heads[last]!;
    let to = last;
    while (to + 1 < this.n && this.heads[to + 1] === lastHead) to++;
    const out: MessageMetaRow[] = new Array(to - from + 1);
    for (let s = from; s <= to; s++) out[s - from] = { seq: s, weight: this.weights[s]!, unit_head: this.heads[s]! };
    return out;
  }
}
