"""The peer: safetensors.torch.load_file(path, device="cuda"), timed from the call to a
torch.cuda.synchronize() after it, with CUDA initialized beforehand (as the Java side's context is).
Prints RESULT <name> <GB/s> <seconds> <bytes> like CudaUploadBench.
Usage: python3 peer_load.py PATH NAME"""
import sys
import time

import torch
from safetensors.torch import load_file

path, name = sys.argv[1], sys.argv[2]
torch.zeros(1, device="cuda")
torch.cuda.synchronize()
start = time.perf_counter()
tensors = load_file(path, device="cuda")
torch.cuda.synchronize()
seconds = time.perf_counter() - start
total = sum(t.numel() * t.element_size() for t in tensors.values())
print(f"RESULT {name} {total / seconds / 1e9:.3f} {seconds:.4f} {total}")
