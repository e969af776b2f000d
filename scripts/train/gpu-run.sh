#!/usr/bin/env bash
# Continues training the recall model on a GPU machine (docs/recall-model.md,
# "The trained model"): resumes from scripts/train/checkpoints/, trains for
# MINUTES (default 8, so the whole run stays under 10 minutes with start-up
# and the final evaluation), then writes the checkpoint, the exported
# weights and the card's measurements back into scripts/train/checkpoints/.
# Needs python3 with torch (CUDA build); nothing else, no network.
# Usage: bash scripts/train/gpu-run.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
"$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "no CUDA device visible to torch")'
# A GPU step is cheap, so larger batches; the curriculum, held-out seeds and the
# rest of the recipe (lr 3e-3 after a 100-step warm-up, Adam beta2 0.98, answers
# and repeated values as targets) are the CPU run's defaults.
# --replace-other-config: the committed checkpoint may be of an older config
# (scripts/train/MODEL_CARD.md); then the run starts afresh over it.
exec "$PY" train_recall.py --device cuda --threads 8 --batch 64 --replace-other-config \
  --minutes "${1:-8}" --checkpoint-minutes 2 --eval-every 100
