// Counts the bytes of the typed arrays the kv orchestration holds at once
// (response frame, one layer's cache, block, scores, new pages), so tests
// and the benchmark can show the working set stays flat whatever the
// conversation's length (docs/architecture.md, EpiCache step 4).

export class MemoryMeter {
  peak = 0;
  /** Records a moment at which `bytes` are held. */
  note(bytes: number): void {
    if (bytes > this.peak) this.peak = bytes;
  }
}
