"""Writes a safetensors file of at least SIZE_GIB GiB for the upload benchmark.

Layout like a 7B-class checkpoint: per layer four 4096x4096 BF16 projections, two 4096x11008
BF16 MLP matrices, and small F32 norms (so small tensors are packed too). Bytes are random
(generated once per shape and reused: the benchmark moves bytes, it does not compute on them).
The header follows the format's rules (little-endian u64 length, JSON padded with spaces to a
multiple of 8, contiguous data_offsets), so the reference reader loads it.
Usage: python3 make_model.py PATH SIZE_GIB [HIDDEN]
HIDDEN (default 4096; the MLP is 43/16 of it, 11008 at 4096) is for the smoke run against the CUDA
emulator, where a 4096-wide layer (300 MiB) is more than a 64 MiB file needs.
"""
import json
import os
import struct
import sys

import numpy as np

path, size_gib = sys.argv[1], float(sys.argv[2])
hidden = int(sys.argv[3]) if len(sys.argv) > 3 else 4096
mlp = hidden * 11008 // 4096
layer = [("q_proj", "BF16", [hidden, hidden]), ("k_proj", "BF16", [hidden, hidden]),
         ("v_proj", "BF16", [hidden, hidden]), ("o_proj", "BF16", [hidden, hidden]),
         ("up_proj", "BF16", [mlp, hidden]), ("down_proj", "BF16", [hidden, mlp]),
         ("input_norm", "F32", [hidden]), ("post_norm", "F32", [hidden])]
size = {"BF16": 2, "F32": 4}
tensors, offset, i = [], 0, 0
while offset < size_gib * (1 << 30):
    for name, dtype, shape in layer:
        n = int(np.prod(shape)) * size[dtype]
        tensors.append((f"model.layers.{i}.{name}.weight", dtype, shape, offset, offset + n))
        offset += n
    i += 1
header = {name: {"dtype": d, "shape": s, "data_offsets": [b, e]} for name, d, s, b, e in tensors}
raw = json.dumps(header, separators=(",", ":")).encode()
raw += b" " * (-len(raw) % 8)
rng = np.random.default_rng(0)
blocks = {}
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(raw)))
    f.write(raw)
    for name, dtype, shape, b, e in tensors:
        if (e - b) not in blocks:
            blocks[e - b] = rng.integers(0, 256, e - b, dtype=np.uint8).tobytes()
        f.write(blocks[e - b])
    f.flush()
    os.fsync(f.fileno())
print(f"wrote {path}: {len(tensors)} tensors, {offset / (1 << 30):.2f} GiB of data")
