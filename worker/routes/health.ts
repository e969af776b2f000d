// GET /healthz: liveness plus build information, proving the kernels instantiate in workerd.
import { Hono } from "hono";
import type { Env } from "../env";
import { bundledKernelInstance, KERNELS_BUILD } from "../../wasm/src/bundled";

export const healthRoute = new Hono<{ Bindings: Env }>().get("/healthz", (c) => {
  const { exports } = bundledKernelInstance();
  const kernels = Object.keys(exports).filter((k) => typeof exports[k] === "function" && k !== "heapBase");
  return c.json({
    status: "ok",
    name: "epikv",
    version: c.env.EPIKV_VERSION,
    wasm: { simd: true, build: KERNELS_BUILD, kernels: kernels.sort(), memory_bytes: exports.memory.buffer.byteLength },
  });
});
