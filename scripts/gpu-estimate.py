#!/usr/bin/env python3
"""Sizes a GPU executor for poster-genres, on a GPU machine with PyTorch (no JVM needed).

TensorFlow Java's GPU build cannot be tried where this ran (see README, "On GPU executors"), so
this measures the two numbers a GPU plan rests on, with the same network shapes as the default
model's backbone (MobileNetV2 at 224x224, torchvision's, random weights: speed only):
  1. how many posters/s the GPU infers, float32 and bfloat16, batch 32 and 256;
  2. how many posters/s the machine's CPU cores decode and resize (PIL), one core and all cores.
Usage: scripts/gpu-estimate.py DIR_OF_JPEG_POSTERS  (prints JSON)
"""
import glob
import json
import multiprocessing as mp
import os
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image


def decode(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB").resize((224, 224), Image.BILINEAR))


def main():
    posters = sorted(glob.glob(os.path.join(sys.argv[1], "*.jpg")))
    out = {"posters": len(posters), "cpu_cores": os.cpu_count(), "gpu": torch.cuda.get_device_name(0)}
    t = time.perf_counter()
    arrays = [decode(p) for p in posters]
    out["decode_posters_per_s_one_core"] = round(len(posters) / (time.perf_counter() - t), 1)
    with mp.Pool(os.cpu_count()) as pool:
        pool.map(decode, posters[:32])
        t = time.perf_counter()
        for _ in range(3):
            pool.map(decode, posters, chunksize=4)
        out["decode_posters_per_s_all_cores"] = round(3 * len(posters) / (time.perf_counter() - t), 1)

    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # uint8, N x 3 x 224 x 224
    model = torchvision.models.mobilenet_v2(weights=None).eval().cuda().to(memory_format=torch.channels_last)
    results = {}
    for bf16 in (False, True):
        for batch in (32, 256):
            idx = torch.arange(batch) % images.shape[0]
            host = images[idx].pin_memory()
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
                def step():
                    x = host.cuda(non_blocking=True).float().div_(255).contiguous(memory_format=torch.channels_last)
                    return model(x)
                for _ in range(5):
                    step()
                torch.cuda.synchronize()
                n = 40
                t = time.perf_counter()
                for _ in range(n):
                    step()
                torch.cuda.synchronize()
                results[f"{'bf16' if bf16 else 'fp32'}_batch{batch}"] = round(n * batch / (time.perf_counter() - t), 1)
    out["gpu_infer_posters_per_s_including_copy"] = results
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
