// Remembered values per key, for the per-isolate lookups that a
// conversation repeats (word stems, related terms, hash-chain values). The
// bound is cheap rather than exact: at `limit` keys the map starts over, and
// the keys a conversation uses come back within a turn or two.

/** A Map that is cleared when a new key would make it hold more than `limit` keys. */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly limit: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    if (this.map.size >= this.limit && !this.map.has(key)) this.map.clear();
    this.map.set(key, value);
  }

  clear(): void {
    this.map.clear();
  }
}

/** `compute` remembered in a BoundedMap of `limit` keys. Results are shared: do not modify them. */
export function boundedMemo<K, V>(limit: number, compute: (key: K) => V): (key: K) => V {
  const known = new BoundedMap<K, V>(limit);
  return (key) => {
    let value = known.get(key);
    if (value === undefined) {
      value = compute(key);
      known.set(key, value);
    }
    return value;
  };
}
