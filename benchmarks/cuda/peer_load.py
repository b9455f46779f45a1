"""The peer: safetensors.torch.load_file(path, device="cuda"), timed from the call to a
torch.cuda.synchronize() after it, with CUDA initialized beforehand (as the Java side's context is).
Prints RESULT <name> <GB/s> <seconds> <bytes> like CudaUploadBench.
Usage: python3 peer_load.py PATH NAME [DEVICE]
DEVICE is cuda (the default, the peer); benchmarks/gpu/run.sh's smoke mode passes cpu where torch has
no CUDA, only to run the script's path: such a figure is no peer for anything."""
import sys
import time

import torch
from safetensors.torch import load_file

path, name = sys.argv[1], sys.argv[2]
device = sys.argv[3] if len(sys.argv) > 3 else "cuda"
sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
torch.zeros(1, device=device)
sync()
start = time.perf_counter()
tensors = load_file(path, device=device)
sync()
seconds = time.perf_counter() - start
total = sum(t.numel() * t.element_size() for t in tensors.values())
print(f"RESULT {name} {total / seconds / 1e9:.3f} {seconds:.4f} {total}")
