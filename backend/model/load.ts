// Where the generated models live and how the backend loads them.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadWasmModule } from "../../wasm/src/node-module";
import { DEFAULT_MODEL } from "./config";
import { Model } from "./forward";
import { jsOps } from "./ops-js";
import { wasmOps } from "./ops-wasm";
import { byteTokenizer, type Tokenizer } from "./tokenizer";
import { parseModelWeights, type ModelWeights } from "./weights";
import { parseWordVocabulary, wordTokenizer } from "./word-tokenizer";

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

/** A model's vocabulary file beside its weights (word-level models only). */
export function tokenizerPath(name: string): string {
  return `${WEIGHTS_DIR}${name}.tokenizer.json`;
}

/** The model's own tokenizer: its `<name>.tokenizer.json` when present, else the byte-level one. */
export function loadTokenizer(name: string = DEFAULT_MODEL): Tokenizer {
  const path = tokenizerPath(name);
  if (!existsSync(path)) return byteTokenizer;
  return wordTokenizer(parseWordVocabulary(JSON.parse(readFileSync(path, "utf8"))));
}

export function createModel(weights: ModelWeights, kind: "wasm" | "js" = "wasm", tokenizer: Tokenizer = byteTokenizer): Model {
  return new Model(weights, kind === "wasm" ? wasmOps(loadWasmModule("model")) : jsOps(), tokenizer);
}
