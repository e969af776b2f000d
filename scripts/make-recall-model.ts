// Writes the constructed recall model (scripts/recall/construct.ts,
// docs/recall-model.md) to backend/weights/epikv-recall.safetensors and its
// word vocabulary to backend/weights/epikv-recall.tokenizer.json.
// Deterministic (no randomness at all); skips files already up to date.
// Usage: tsx scripts/make-recall-model.ts
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { WEIGHTS_DIR, tokenizerPath, weightsPath } from "../backend/model/load";
import { serializeModelWeights } from "../backend/model/weights";
import { parseSafetensors } from "../protocol/safetensors";
import { constructRecallWeights, RECALL_CONSTRUCTION_VERSION, RECALL_MODEL } from "./recall/construct";
import { recallVocabulary } from "./recall/vocabulary";

mkdirSync(WEIGHTS_DIR, { recursive: true });
const vocabText = JSON.stringify(recallVocabulary(), null, 1) + "\n";
const generator = JSON.stringify({ construction: RECALL_CONSTRUCTION_VERSION, script: "scripts/make-recall-model.ts" });
const path = weightsPath(RECALL_MODEL);
const upToDate = (() => {
  if (!existsSync(path) || !existsSync(tokenizerPath(RECALL_MODEL))) return false;
  if (readFileSync(tokenizerPath(RECALL_MODEL), "utf8") !== vocabText) return false;
  try {
    return parseSafetensors(new Uint8Array(readFileSync(path)), { maxHeaderBytes: 1 << 20 }).metadata.generator === generator;
  } catch {
    return false;
  }
})();
if (upToDate) console.log(`model ${RECALL_MODEL}: up to date (${path})`);
else {
  const out = serializeModelWeights(constructRecallWeights(), { generator });
  writeFileSync(tokenizerPath(RECALL_MODEL), vocabText);
  writeFileSync(path, out);
  console.log(`model ${RECALL_MODEL}: wrote ${path} (${(out.byteLength / 1e6).toFixed(1)} MB) and its vocabulary`);
}
