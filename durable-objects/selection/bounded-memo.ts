// A pure function's results remembered per key, for the per-isolate lookups
// that a conversation repeats (word stems, related terms). The bound is
// cheap rather than exact: at `limit` keys the memo starts over, and the
// words a conversation uses come back within a turn or two.

/** `compute` remembered in a Map that is cleared when it holds `limit` keys. Results are shared: do not modify them. */
export function boundedMemo<K, V>(limit: number, compute: (key: K) => V): (key: K) => V {
  const known = new Map<K, V>();
  return (key) => {
    let value = known.get(key);
    if (value === undefined) {
      if (known.size >= limit) known.clear();
      value = compute(key);
      known.set(key, value);
    }
    return value;
  };
}
