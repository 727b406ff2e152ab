#!/usr/bin/env bash
# Reproduces the default model, models/postercnn, from the CCU Movie Poster Dataset (about 20
# minutes on 2 cores). DATASET may point at another copy of the dataset; OUTPUT at another folder.
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dataset="${DATASET:-$home/../shared/datasets/ccu-movie-posters}"
output="${OUTPUT:-$home/models/postercnn}"
exec "$home/scripts/poster-genres" train --dataset "$dataset" --output "$output" --overwrite \
  --arch postercnn --image-size 128 --epochs 20 --batch-size 32 --learning-rate 0.001 \
  --validation-fraction 0.15 --seed 42 --time-limit 23
