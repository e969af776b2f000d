// Element-wise closeness for the kernel suites, naming the first index that differs.
import { expect } from "vitest";

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol);
  }
}
