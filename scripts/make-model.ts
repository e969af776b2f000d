// Writes the seeded random reference models (backend/model/config.ts
// MODEL_SIZES) to backend/weights/<name>.safetensors. Deterministic: the same
// seed gives the same bytes. Skips a file whose stored config already matches.
// Usage: tsx scripts/make-model.ts [size ...]   (default: every size)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { MODEL_SIZES, type ModelConfig } from "../backend/model/config";
import { WEIGHTS_DIR, weightsPath } from "../backend/model/load";
import { VOCAB_SIZE } from "../backend/model/tokenizer";
import { parseSafetensors } from "../protocol/safetensors";
import { RANDOM_WEIGHTS_VERSION, randomModelWeights, serializeModelWeights } from "../backend/model/weights";

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const sizes = wanted.length ? wanted : Object.keys(MODEL_SIZES);
mkdirSync(WEIGHTS_DIR, { recursive: true });
for (const size of sizes) {
  const spec = MODEL_SIZES[size];
  if (!spec) throw new Error(`unknown model size "${size}" (known: ${Object.keys(MODEL_SIZES).join(", ")})`);
  const { seed, ...shape } = spec;
  const config: ModelConfig = { name: `epikv-${size}`, vocabSize: VOCAB_SIZE, ...shape };
  const path = weightsPath(config.name);
  const meta = JSON.stringify({ ...config, seed, version: RANDOM_WEIGHTS_VERSION });
  if (existsSync(path)) {
    try {
      if (parseSafetensors(new Uint8Array(readFileSync(path))).metadata.generator === meta) {
        console.log(`model ${config.name}: up to date (${path})`);
        continue;
      }
    } catch {
      // unreadable: regenerate
    }
  }
  const out = serializeModelWeights(randomModelWeights(config, seed), { generator: meta });
  writeFileSync(path, out);
  console.log(`model ${config.name}: wrote ${path} (${(out.byteLength / 1e6).toFixed(1)} MB)`);
}
