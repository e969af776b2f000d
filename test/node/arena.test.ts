import { describe, expect, it } from "vitest";
import { loadWasmModule } from "../../wasm/src/node-module";
import { instantiateKernels } from "../../wasm/src/instance";

describe("arena", () => {
  it("allocates 16-byte aligned blocks above the heap base and grows memory", () => {
    const { exports, arena } = instantiateKernels(loadWasmModule());
    const a = arena.alloc(3);
    const b = arena.alloc(1 << 20);
    expect(a).toBeGreaterThanOrEqual(exports.heapBase());
    expect(a % 16).toBe(0);
    expect(b % 16).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 3);
    expect(exports.memory.buffer.byteLength).toBeGreaterThanOrEqual(b + (1 << 20));
    arena.reset();
    expect(arena.alloc(8)).toBe(a);
  });

  it("scoped() frees what the scope allocated", () => {
    const { arena } = instantiateKernels(loadWasmModule());
    const before = arena.mark();
    arena.scoped(() => arena.alloc(1000));
    expect(arena.mark()).toBe(before);
  });
});
