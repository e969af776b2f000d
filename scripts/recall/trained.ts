// Where the trained recall model lives (scripts/train/, docs/recall-model.md):
// the training script's checkpoint directory in the repository, from which
// `npm run build` copies the exported weights next to the other models.
import { fileURLToPath } from "node:url";

export const TRAINED_MODEL = "epikv-recall-trained";
export const TRAINED_DIR = fileURLToPath(new URL("../train/checkpoints/", import.meta.url));
export const TRAINED_EXPORT = `${TRAINED_DIR}${TRAINED_MODEL}.safetensors`;
