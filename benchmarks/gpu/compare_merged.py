"""Compares `safeload lora merge` outputs with peft's merge_and_unload() of the same model and adapter
(lora-kernels/src/test/resources/fixtures/peft_merge.py wrote both inputs and peft's result).

usage: compare_merged.py LABEL PEFT_MERGED.safetensors OURS_CUDA.safetensors OURS_CPU.safetensors

Prints one line `CHECK <label> <ok|FAIL> <detail>`: the largest per-tensor error of the CUDA merge
against peft, relative to the tensor's largest magnitude (bound 1e-3: peft rounds its fp16 delta
before adding it, we round once, as PeftMergeAndUnloadTest allows), and the largest difference
between the CUDA and the CPU merges (both accumulate in fp32 and round once, so at most one fp16
ulp apart).
"""
import sys

import numpy as np
from safetensors.numpy import load_file

label, peft_path, cuda_path, cpu_path = sys.argv[1:5]
peft, cuda, cpu = load_file(peft_path), load_file(cuda_path), load_file(cpu_path)
worst_peft, worst_name, worst_cpu = 0.0, "", 0.0
missing = [name for name in peft if name not in cuda]
for name, want in peft.items():
    if name not in cuda:
        continue
    want = want.astype(np.float64)
    have = cuda[name].astype(np.float64)
    scale = max(np.abs(want).max(), 1e-30)
    err = np.abs(want - have).max() / scale
    if err > worst_peft:
        worst_peft, worst_name = err, name
    if name in cpu:
        worst_cpu = max(worst_cpu, np.abs(cpu[name].astype(np.float64) - have).max() / scale)
ok = not missing and worst_peft <= 1e-3 and worst_cpu <= 1e-3
detail = (f"{len(peft)} tensors; CUDA vs peft merge_and_unload: max relative error {worst_peft:.2e} ({worst_name or '-'}); "
          f"CUDA vs CPU: {worst_cpu:.2e}" + (f"; missing from ours: {missing[:3]}" if missing else ""))
print(f"CHECK {label} {'ok' if ok else 'FAIL'} {detail}")
sys.exit(0 if ok else 1)
