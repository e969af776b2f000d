// Writes the constructed recall model (scripts/recall/construct.ts,
// docs/recall-model.md) to backend/weights/epikv-recall.safetensors and its
// word vocabulary to backend/weights/epikv-recall.tokenizer.json.
// Deterministic (no randomness at all); skips files already up to date.
// Also copies the trained recall model exported by scripts/train/ (committed
// under scripts/train/checkpoints/) next to it, with the same vocabulary.
// Usage: tsx scripts/make-recall-model.ts [--train-words]
//   --train-words also rewrites scripts/train/recall-words.json (the training data's words).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { WEIGHTS_DIR, tokenizerPath, weightsPath } from "../backend/model/load";
import { serializeModelWeights } from "../backend/model/weights";
import { parseSafetensors } from "../protocol/safetensors";
import { constructRecallWeights, RECALL_CONSTRUCTION_VERSION, RECALL_MODEL } from "./recall/construct";
import { recallVocabulary, trainingWords } from "./recall/vocabulary";
import { TRAINED_EXPORT, TRAINED_MODEL } from "./recall/trained";

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

if (existsSync(TRAINED_EXPORT)) {
  const target = weightsPath(TRAINED_MODEL);
  if (!existsSync(target) || Buffer.compare(readFileSync(target), readFileSync(TRAINED_EXPORT)) !== 0) copyFileSync(TRAINED_EXPORT, target);
  if (!existsSync(tokenizerPath(TRAINED_MODEL)) || readFileSync(tokenizerPath(TRAINED_MODEL), "utf8") !== vocabText) writeFileSync(tokenizerPath(TRAINED_MODEL), vocabText);
  console.log(`model ${TRAINED_MODEL}: ${target}`);
}

if (process.argv.includes("--train-words")) {
  const out = new URL("./train/recall-words.json", import.meta.url);
  writeFileSync(out, JSON.stringify(trainingWords(), null, 1) + "\n");
  console.log(`wrote ${out.pathname}`);
}
