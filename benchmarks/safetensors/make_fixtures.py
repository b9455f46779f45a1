#!/usr/bin/env python3
"""Writes the safetensors benchmark files with the reference writer (safetensors.serialize_file),
so the Java reader and the Python peer read byte-identical files.

  header.safetensors  20,000 small tensors: the header is what is measured (about 1.6 MB of JSON).
  model.safetensors   a TinyLlama-1.1B-shaped BF16 model (22 layers, hidden 2048, MLP 5632, vocab
                      32000; 201 tensors, 2.05 GiB of tensor data), values drawn from N(0, 0.02) and
                      rounded to BF16 like real weights, so conversions see realistic bit patterns.

Prints a JSON summary (paths, tensor counts, data bytes, header bytes) on stdout.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
from safetensors import TensorSpec, serialize_file

HEADER_TENSORS = 20_000


def header_fixture_specs():
    """20,000 tiny tensors with names, dtypes and shapes like a large model's (varied so the parser
    cannot specialise on one dtype or one rank)."""
    dtypes = [("F32", "float32", 4), ("F16", "float16", 2), ("BF16", "bfloat16", 2), ("I64", "int64", 8)]
    specs, owners = {}, []
    for i in range(HEADER_TENSORS):
        layer, part = divmod(i, 40)
        code, name, size = dtypes[i % len(dtypes)]
        shape = [1 + part % 3, 2] if part % 2 == 0 else [4]
        nbytes = size * int(np.prod(shape))
        buf = np.full(nbytes, i & 0xFF, dtype=np.uint8)
        owners.append(buf)  # serialize_file reads raw pointers: keep every buffer alive until it returns
        specs[f"model.layers.{layer}.block.{part}.weight"] = TensorSpec(
            dtype=name, shape=shape, data_ptr=buf.ctypes.data, data_len=nbytes)
    return specs, owners


def model_shapes(layers=22, hidden=2048, kv=256, mlp=5632, vocab=32000):
    """TinyLlama-1.1B's tensor shapes (grouped-query attention: k and v project to 4 heads of 64)."""
    yield "model.embed_tokens.weight", [vocab, hidden]
    for i in range(layers):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", [hidden]
        yield p + "self_attn.q_proj.weight", [hidden, hidden]
        yield p + "self_attn.k_proj.weight", [kv, hidden]
        yield p + "self_attn.v_proj.weight", [kv, hidden]
        yield p + "self_attn.o_proj.weight", [hidden, hidden]
        yield p + "post_attention_layernorm.weight", [hidden]
        yield p + "mlp.gate_proj.weight", [mlp, hidden]
        yield p + "mlp.up_proj.weight", [mlp, hidden]
        yield p + "mlp.down_proj.weight", [hidden, mlp]
    yield "model.norm.weight", [hidden]
    yield "lm_head.weight", [vocab, hidden]


def bf16_weights(rng, count):
    """N(0, 0.02) rounded to nearest-even BF16, returned as the raw uint16 bit patterns."""
    f = (rng.standard_normal(count, dtype=np.float32) * np.float32(0.02)).view(np.uint32)
    rounded = f + np.uint32(0x7FFF) + ((f >> np.uint32(16)) & np.uint32(1))
    return (rounded >> np.uint32(16)).astype(np.uint16)


def model_fixture_specs(seed=20261122):
    rng = np.random.default_rng(seed)
    specs, owners = {}, []
    for name, shape in model_shapes():
        bits = bf16_weights(rng, int(np.prod(shape)))
        owners.append(bits)
        specs[name] = TensorSpec(dtype="bfloat16", shape=shape, data_ptr=bits.ctypes.data, data_len=bits.nbytes)
    return specs, owners


def describe(path):
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
    header.pop("__metadata__", None)
    data = sum(end - begin for begin, end in (t["data_offsets"] for t in header.values()))
    return {"path": os.path.abspath(path), "tensors": len(header), "header_bytes": 8 + header_len,
            "data_bytes": data, "file_bytes": os.path.getsize(path)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", help="folder to write header.safetensors and model.safetensors into")
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    summary = {}
    for key, make in (("header", header_fixture_specs), ("model", model_fixture_specs)):
        path = os.path.join(args.dir, key + ".safetensors")
        specs, owners = make()
        serialize_file(specs, path, {"format": "pt"})
        del specs, owners
        summary[key] = describe(path)
        print(f"wrote {path}: {summary[key]['tensors']} tensors, {summary[key]['file_bytes']} bytes", file=sys.stderr)
    json.dump(summary, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
