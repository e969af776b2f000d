// Reads a workerd isolate's own memory figures through the V8 inspector that
// workerd serves (`--inspector-addr`, Miniflare's `inspectorPort`): one
// WebSocket target per Worker service, named as in /json/list (Miniflare
// names a user Worker `core:user:<name>`). A Durable Object class defined by
// a Worker runs in that Worker's isolate, so these are the numbers a
// conversation's object lives in.
//
// - JS heap: `Runtime.getHeapUsage` (V8's used and committed heap, and the
//   backing stores of ArrayBuffers outside it: typed arrays' bytes live there).
// - WASM memory: every live `WebAssembly.Memory` in the isolate, found with
//   `Runtime.queryObjects` on its prototype (which collects all garbage
//   first), summed by buffer byteLength (linear memory never shrinks, so
//   this is also its high-water mark).
// - WASM memory while work runs (trackWasm): a Runtime.evaluate wraps the
//   isolate's `WebAssembly.Instance` constructor so every memory an instance
//   made from then on exports or imports (and every one alive at install) is held
//   by a WeakRef; a sample sums the byteLength of those not yet collected.
//   That counts a dropped memory until V8 frees it, as the isolate's limit
//   does, without forcing the collections queryObjects would.
// The inspector answers between JavaScript tasks: a sample requested while
// the object runs one long synchronous step is taken when that step yields.
import { WebSocket } from "undici";

export interface HeapUsage {
  /** Bytes of live and not-yet-collected objects on the V8 heap. */
  used: number;
  /** Bytes V8 has committed for its heap. */
  total: number;
  /** Bytes of ArrayBuffer backing stores and external strings (off the V8 heap). */
  backing: number;
}

export interface IsolateMemory extends HeapUsage {
  /** Summed byteLength of every WebAssembly.Memory in the isolate. */
  wasm: number;
}

interface Message {
  id?: number;
  method?: string;
  params?: any;
  result?: any;
  error?: { message: string };
}

export class IsolateInspector {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (m: any) => void; reject: (e: Error) => void }>();
  private contextId: string | undefined;
  private contextWaiters: ((id: string) => void)[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (e) => this.receive(JSON.parse(String(e.data)) as Message);
    ws.onclose = () => {
      for (const p of this.pending.values()) p.reject(new Error("inspector connection closed"));
      this.pending.clear();
    };
  }

  /** Connects to the target named `service` on the inspector at host:port. */
  static async connect(inspectorPort: number, service: string, timeoutMs = 10_000): Promise<IsolateInspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { id: string; webSocketDebuggerUrl: string }[];
    const target = targets.find((t) => t.id === service);
    if (!target) throw new Error(`no inspector target ${service} (have ${targets.map((t) => t.id).join(", ")})`);
    const ws = new WebSocket(target.webSocketDebuggerUrl.replace("//localhost:", "//127.0.0.1:"));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector ${service}: no connection within ${timeoutMs} ms`)), timeoutMs);
      ws.onopen = () => (clearTimeout(timer), resolve());
      ws.onerror = () => (clearTimeout(timer), reject(new Error(`inspector ${service}: connection failed`)));
    });
    const inspector = new IsolateInspector(ws);
    await inspector.call("Runtime.enable");
    return inspector;
  }

  private receive(m: Message): void {
    if (m.method === "Runtime.executionContextCreated") {
      this.contextId = m.params.context.uniqueId as string;
      for (const w of this.contextWaiters.splice(0)) w(this.contextId);
      return;
    }
    if (m.id === undefined) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.error) p.reject(new Error(`inspector: ${m.error.message}`));
    else p.resolve(m.result);
  }

  call(method: string, params: object = {}): Promise<any> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** The isolate's script context (announced after Runtime.enable once the Worker has run). */
  private context(timeoutMs = 10_000): Promise<string> {
    if (this.contextId) return Promise.resolve(this.contextId);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("inspector: no execution context (has the Worker served a request?)")), timeoutMs);
      this.contextWaiters.push((id) => (clearTimeout(timer), resolve(id)));
    });
  }

  async heap(): Promise<HeapUsage> {
    const r = await this.call("Runtime.getHeapUsage");
    return { used: r.usedSize, total: r.totalSize, backing: r.backingStorageSize ?? 0 };
  }

  /** Summed byteLength of every live WebAssembly.Memory in the isolate. */
  async wasmBytes(): Promise<number> {
    return (await this.wasmMemories()).reduce((s, b) => s + b, 0);
  }

  /** byteLength of each live WebAssembly.Memory in the isolate, largest first. */
  async wasmMemories(): Promise<number[]> {
    const uniqueContextId = await this.context();
    const proto = await this.call("Runtime.evaluate", { expression: "WebAssembly.Memory.prototype", uniqueContextId });
    const found = await this.call("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId, objectGroup: "epikv-memory" });
    const sum = await this.call("Runtime.callFunctionOn", {
      objectId: found.objects.objectId,
      functionDeclaration: "function () { return this.map((m) => m.buffer.byteLength).sort((a, b) => b - a); }",
      returnByValue: true,
    });
    await this.call("Runtime.releaseObjectGroup", { objectGroup: "epikv-memory" });
    return sum.result.value as number[];
  }

  /**
   * Starts tracking WASM memories (see the header): idempotent; the ones
   * alive now are adopted. Code that holds `WebAssembly.Instance` from before
   * the install is not affected; epikv looks it up on every instantiation
   * (wasm/src/instance.ts).
   */
  async trackWasm(): Promise<void> {
    const uniqueContextId = await this.context();
    const installed = await this.call("Runtime.evaluate", { expression: WASM_TRACKER, uniqueContextId, returnByValue: true });
    if (installed.exceptionDetails) throw new Error(`inspector: WASM tracker: ${installed.exceptionDetails.text}`);
    const proto = await this.call("Runtime.evaluate", { expression: "WebAssembly.Memory.prototype", uniqueContextId });
    const found = await this.call("Runtime.queryObjects", { prototypeObjectId: proto.result.objectId, objectGroup: "epikv-memory" });
    await this.call("Runtime.callFunctionOn", { objectId: found.objects.objectId, functionDeclaration: "function () { this.forEach((m) => globalThis.__epikvWasmTracker.track(m)); }" });
    await this.call("Runtime.releaseObjectGroup", { objectGroup: "epikv-memory" });
  }

  /** Bytes of the tracked WASM memories V8 has not collected yet (trackWasm first). */
  async trackedWasmBytes(): Promise<number> {
    const r = await this.call("Runtime.evaluate", { expression: "globalThis.__epikvWasmTracker.bytes()", uniqueContextId: await this.context(), returnByValue: true });
    return r.result.value as number;
  }

  /**
   * Live figures: WASM memory, then the heap. Runtime.queryObjects collects
   * all garbage before it walks the heap, so the heap read after it counts
   * live objects only. (HeapProfiler.collectGarbage posts its GC as a
   * platform task that workerd may not run while the isolate is idle.)
   */
  async read(): Promise<IsolateMemory> {
    const wasm = await this.wasmBytes();
    return { ...(await this.heap()), wasm };
  }

  close(): void {
    this.ws.close();
  }
}

/** Installed into the isolate by trackWasm(): WeakRefs to every WebAssembly.Memory an instance exports or imports. */
const WASM_TRACKER = `(() => {
  if (globalThis.__epikvWasmTracker) return true;
  const refs = [];
  const Instance = WebAssembly.Instance;
  const Memory = WebAssembly.Memory;
  const track = (m) => { if (m instanceof Memory && !refs.some((r) => r.deref() === m)) refs.push(new WeakRef(m)); };
  WebAssembly.Instance = class extends Instance {
    constructor(module, imports) {
      super(module, imports);
      for (const v of Object.values(this.exports)) track(v);
      for (const ns of Object.values(imports ?? {})) for (const v of Object.values(ns ?? {})) track(v);
    }
  };
  globalThis.__epikvWasmTracker = {
    track,
    bytes() {
      let sum = 0;
      for (let i = refs.length - 1; i >= 0; i--) {
        const m = refs[i].deref();
        if (m) sum += m.buffer.byteLength;
        else refs.splice(i, 1);
      }
      return sum;
    },
  };
  return true;
})()`;

/** What counts against an isolate's memory limit: V8 heap plus ArrayBuffer backing stores plus WASM linear memory. */
export function isolateTotal(m: IsolateMemory): number {
  return m.used + m.backing + m.wasm;
}

export interface PeakSampler {
  /**
   * Stops sampling: the highest figures seen (each field its own maximum),
   * the highest heap used + backing + WASM of any one sample (the peak
   * total), and the sample count.
   */
  stop: () => Promise<{ peak: IsolateMemory; total: number; samples: number }>;
}

/**
 * Samples heap usage and the tracked WASM memories (trackWasm first) every
 * `everyMs` until stop(), forcing no GC: garbage a collection has not yet
 * freed counts, as it does against the limit.
 */
export function samplePeak(inspector: IsolateInspector, everyMs = 100): PeakSampler {
  const peak: IsolateMemory = { used: 0, total: 0, backing: 0, wasm: 0 };
  let samples = 0;
  let combined = 0;
  let running = true;
  const take = async () => {
    const h = await inspector.heap();
    const wasm = await inspector.trackedWasmBytes();
    samples++;
    combined = Math.max(combined, h.used + h.backing + wasm);
    peak.used = Math.max(peak.used, h.used);
    peak.total = Math.max(peak.total, h.total);
    peak.backing = Math.max(peak.backing, h.backing);
    peak.wasm = Math.max(peak.wasm, wasm);
  };
  const loop = (async () => {
    while (running) {
      await take();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await take();
      return { peak, total: combined, samples };
    },
  };
}
