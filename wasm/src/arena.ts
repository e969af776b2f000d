// A bump allocator over a WASM instance's linear memory.
//
// Kernels are pure pointer functions; the JS side places inputs and outputs
// in memory, calls the kernel, reads results and resets. Views returned by
// `f32()` etc. are invalidated when memory grows, so callers take every view
// after all `alloc` calls of one operation (or re-take them after `alloc`).

const ALIGN = 16;

export class Arena {
  private top: number;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly base: number,
  ) {
    this.top = align(base);
  }

  /** Reserve `bytes` (16-byte aligned), growing memory when needed; returns the byte offset. */
  alloc(bytes: number): number {
    const ptr = this.top;
    const end = align(ptr + Math.max(0, bytes));
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / 65536));
    this.top = end;
    return ptr;
  }

  /** Free everything allocated since `mark` (or since construction). */
  reset(mark: number = this.base): void {
    this.top = align(mark);
  }

  /** Bytes of the linear memory (what the instance holds, allocated or not). */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Current top, for nested scopes: `const m = arena.mark(); …; arena.reset(m)`. */
  mark(): number {
    return this.top;
  }

  /** Run `fn` with a scope whose allocations are freed when it returns. */
  scoped<T>(fn: () => T): T {
    const m = this.top;
    try {
      return fn();
    } finally {
      this.top = m;
    }
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }
  u32(ptr: number, length: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, ptr, length);
  }
  u16(ptr: number, length: number): Uint16Array {
    return new Uint16Array(this.memory.buffer, ptr, length);
  }
  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }

  /** Copy a typed array into fresh arena memory; returns its offset. */
  put(data: ArrayBufferView): number {
    const ptr = this.alloc(data.byteLength);
    new Uint8Array(this.memory.buffer, ptr, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return ptr;
  }
}

function align(n: number): number {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}
