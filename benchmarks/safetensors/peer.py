#!/usr/bin/env python3
"""The Python peer: the reference safetensors reader (safe_open + get_tensor, numpy framework) doing
the same three jobs as the JMH benchmarks, on the same files, timed the way JMH times them
(warm-up iterations, then measured iterations of at least --iteration-seconds each; the figure is
the mean time per operation over the measured iterations).

  header   safe_open(file, "numpy") then close: maps the file, parses and validates the header
           (the reference validates everything at open).
  read     safe_open(file, "numpy"), get_tensor(name) for every tensor in file order, close.
           get_tensor copies the tensor's bytes out of the mapping into a new bytearray and wraps it
           as a numpy array, so every byte is read from the page cache and written once.
  convert  the same loop with .astype(numpy.float32) on each tensor: BF16 -> F32 through ml_dtypes'
           bfloat16 dtype (numpy has none; safetensors' numpy framework needs ml_dtypes for BF16).

Prints one JSON object: {"header": {...}, "read": {...}, "convert": {...}}, each with
seconds_per_op (mean), the per-iteration means and their relative spread.
"""
import argparse
import gc
import json
import statistics
import sys
import time

import ml_dtypes  # noqa: F401  (registers numpy's "bfloat16" dtype that safetensors' numpy framework asks for)
import numpy as np
from safetensors import safe_open


def open_and_validate(path):
    with safe_open(path, framework="numpy"):
        pass


def read_every_tensor(path):
    with safe_open(path, framework="numpy") as f:
        for name in f.offset_keys():
            f.get_tensor(name)


def convert_every_tensor(path):
    with safe_open(path, framework="numpy") as f:
        for name in f.offset_keys():
            f.get_tensor(name).astype(np.float32)


def measure(op, path, warmups, iterations, iteration_seconds):
    def iteration():
        ops, start = 0, time.perf_counter()
        while True:
            op(path)
            ops += 1
            elapsed = time.perf_counter() - start
            if elapsed >= iteration_seconds:
                return elapsed / ops
    for _ in range(warmups):
        iteration()
    means = [iteration() for _ in range(iterations)]
    mean = statistics.fmean(means)
    return {"seconds_per_op": mean, "iterations": means,
            "relative_stdev": statistics.stdev(means) / mean if len(means) > 1 else 0.0}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--header-file", required=True)
    ap.add_argument("--model-file", required=True)
    ap.add_argument("--warmups", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--iteration-seconds", type=float, default=2.0)
    ap.add_argument("--only", choices=["header", "read", "convert"], action="append")
    args = ap.parse_args()
    gc.disable()  # JMH does not count GC pauses of other code either; arrays die by refcount anyway
    jobs = {"header": (open_and_validate, args.header_file),
            "read": (read_every_tensor, args.model_file),
            "convert": (convert_every_tensor, args.model_file)}
    results = {}
    for key, (op, path) in jobs.items():
        if args.only and key not in args.only:
            continue
        results[key] = measure(op, path, args.warmups, args.iterations, args.iteration_seconds)
        print(f"peer {key}: {results[key]['seconds_per_op'] * 1e3:.3f} ms/op", file=sys.stderr)
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
