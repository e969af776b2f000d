// Seeded random inputs shared by the kernel suites.

/** `length` uniform values in [-scale, scale) from `random` (a mulberry32 stream). */
export function randomArray(random: () => number, length: number, scale = 1): Float32Array {
  return Float32Array.from({ length }, () => (random() * 2 - 1) * scale);
}
