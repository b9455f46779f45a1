"""The peer for the GPU merge figure: peft merging a rank-r LoRA into a 7B-shaped Llama on the same GPU.

usage: peft_bench.py OUT_JSON [--layers 32] [--rank 16] [--dtypes F16,BF16] [--repeats 5]
                     [--hidden 4096] [--mlp 11008] [--device cuda]

Builds LlamaForCausalLM with Llama-2-7B's shapes (hidden 4096, MLP 11008, `--layers` layers) directly
on the device in the first dtype, wraps it with get_peft_model (q, k, v, o, gate, up, down; random A
and B), then times `merge_adapter()` (W += scale·B·A per module, in place; what merge_and_unload does
before it drops the wrappers) followed by `unmerge_adapter()`, synchronizing around each; then casts
the model to the next dtype and does the same. The ceiling is a device copy of the same weight bytes
(read + write), measured the same way. `--device cpu` and small `--hidden`/`--mlp` are for
benchmarks/gpu/run.sh's smoke run where torch has no CUDA: such figures are no peer for anything.
"""
import argparse
import json
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--layers", type=int, default=32)
parser.add_argument("--rank", type=int, default=16)
parser.add_argument("--dtypes", default="F16,BF16")
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--hidden", type=int, default=4096)
parser.add_argument("--mlp", type=int, default=11008)
parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
args = parser.parse_args()
dtypes = {"F16": torch.float16, "BF16": torch.bfloat16}
order = args.dtypes.split(",")
sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)

config = LlamaConfig(hidden_size=args.hidden, intermediate_size=args.mlp, num_hidden_layers=args.layers,
                     num_attention_heads=32, num_key_value_heads=32, vocab_size=32000)
# Built in the benchmark dtype from the start: a float32 7B first would need 27 GB and a cast.
torch.set_default_dtype(dtypes[order[0]])
with torch.device(args.device):
    model = LlamaForCausalLM(config)
torch.set_default_dtype(torch.float32)
targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
peft_model = get_peft_model(model, LoraConfig(r=args.rank, lora_alpha=2 * args.rank, target_modules=targets,
                                              init_lora_weights=False))


def timed(fn):
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return (time.perf_counter() - start) * 1e3


results = []
for name in order:
    dtype = dtypes[name]
    peft_model.to(dtype)  # base weights and LoRA factors alike, as a model loaded in that dtype
    merge = []
    for _ in range(args.repeats + 1):
        merge.append(timed(peft_model.merge_adapter))
        timed(peft_model.unmerge_adapter)
    weights = [m.weight for n, m in model.named_modules() if n.split(".")[-1] in targets and hasattr(m, "weight")]
    scratch = torch.empty(max(w.numel() for w in weights), dtype=dtype, device=args.device)

    def copy_all():
        for w in weights:
            scratch[: w.numel()].copy_(w.view(-1))

    copies = [timed(copy_all) for _ in range(args.repeats + 1)]
    del scratch
    # The first run of each warms up kernels and allocator; the best of the rest is reported.
    results.append({"layers": args.layers, "rank": args.rank, "dtype": name, "hidden": args.hidden, "mlp": args.mlp,
                    "device": args.device, "merge_ms": min(merge[1:]), "merge_ms_all": merge, "copy_ms": min(copies[1:]),
                    "copy_ms_all": copies, "weight_bytes": sum(w.numel() * w.element_size() for w in weights)})
    print(json.dumps(results[-1]), flush=True)
gpu = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
with open(args.out, "w") as f:
    json.dump({"results": results, "torch": torch.__version__, "gpu": gpu}, f, indent=2)
