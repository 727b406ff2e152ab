#!/usr/bin/env bash
# Reproduces the default model, models/ensemble, from the CCU Movie Poster Dataset (about 22
# minutes on 2 cores). Each step's output is kept, so a re-run skips what exists (remove
# models/postercnn or models/ensemble to train them again):
#   1. models/postercnn: the small network trained from scratch (about 20 minutes);
#   2. models/ensemble: a head on the frozen MobileNetV2 of the npm package nsfwjs 4.4.0, its
#      logits averaged with 1.'s inside one SavedModel (about 2 minutes);
#   3. only with INCEPTION=1: target/default-model/inception, a head on nsfwjs' InceptionV3 (up to
#      mixed7) averaged with 2. (13 times the arithmetic of 2. for +0.003 macro ROC-AUC; not the
#      default), and its float16 copy (under 25 MB).
# Every step uses the same seed and validation fraction, so all are validated on the same posters
# (train refuses an ensemble member validated on others). Steps 2 and 3 need npm: nsfwjs is
# installed under target/, converted by our code at training time, never committed.
# DATASET may point at another copy of the dataset.
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dataset="${DATASET:-$home/../shared/datasets/ccu-movie-posters}"
work="$home/target/default-model"
pg="$home/scripts/poster-genres"
common=(--dataset "$dataset" --validation-fraction 0.15 --seed 42 --overwrite)

if [ ! -f "$home/models/postercnn/model.json" ]; then
  "$pg" train "${common[@]}" --output "$home/models/postercnn" \
    --arch postercnn --image-size 128 --epochs 20 --batch-size 32 --learning-rate 0.001 --time-limit 23
fi

nsfwjs="$home/target/nsfwjs/node_modules/nsfwjs/dist/models"
if [ ! -d "$nsfwjs/mobilenet_v2" ]; then
  command -v npm >/dev/null || { echo "train-default-model: npm is needed to install nsfwjs@4.4.0 (apt-get install npm)" >&2; exit 3; }
  mkdir -p "$home/target/nsfwjs"
  (cd "$home/target/nsfwjs" && npm install --no-audit --no-fund --ignore-scripts nsfwjs@4.4.0 >/dev/null)
fi

if [ ! -f "$home/models/ensemble/model.json" ]; then
  "$pg" train "${common[@]}" --output "$home/models/ensemble" --arch pretrained --backbone "$nsfwjs/mobilenet_v2" \
    --feature-layers block_5_add,block_9_add,block_10_expand_relu,block_12_add,block_13_expand_relu,block_15_add,pixels \
    --hidden 512 --dropout 0.8 --learning-rate 0.0002 --epochs 60 --feature-cache "$work/features" \
    --ensemble-with "$home/models/postercnn"
fi

if [ "${INCEPTION:-0}" = 1 ]; then
  if [ ! -f "$work/inception/model.json" ]; then
    "$pg" train "${common[@]}" --output "$work/inception" --arch pretrained --backbone "$nsfwjs/inception_v3" \
      --feature-layers mixed2,mixed5,mixed7,pixels --hidden 256 --dropout 0.7 --learning-rate 0.0002 --epochs 40 \
      --feature-cache "$work/features" --ensemble-with "$home/models/ensemble"
  fi
  "$pg" convert --model "$work/inception" --precision fp16 --output "$work/inception-fp16" --overwrite \
    --posters "$dataset/Movie_Poster_Dataset" --limit 400
fi
