// Where the generated models live and how the backend loads them.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadWasmModule } from "../../wasm/src/node-module";
import { DEFAULT_MODEL } from "./config";
import { Model } from "./forward";
import { jsOps } from "./ops-js";
import { wasmOps } from "./ops-wasm";
import { parseModelWeights, type ModelWeights } from "./weights";

/** backend/weights/ (git-ignored; written by scripts/make-model.ts during `npm run build`). */
export const WEIGHTS_DIR = fileURLToPath(new URL("../weights/", import.meta.url));

export function weightsPath(name: string): string {
  return `${WEIGHTS_DIR}${name}.safetensors`;
}

export function loadWeights(name: string = DEFAULT_MODEL): ModelWeights {
  const path = weightsPath(name);
  if (!existsSync(path)) throw new Error(`model weights ${path} not found; run \`npm run build\` (it runs scripts/make-model.ts)`);
  return parseModelWeights(new Uint8Array(readFileSync(path)));
}

export function createModel(weights: ModelWeights, kind: "wasm" | "js" = "wasm"): Model {
  return new Model(weights, kind === "wasm" ? wasmOps(loadWasmModule("model")) : jsOps());
}
