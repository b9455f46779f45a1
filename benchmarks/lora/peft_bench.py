"""The peer for the GPU merge figure: peft merging a rank-r LoRA into a 7B-shaped Llama on the same GPU.

usage: peft_bench.py OUT_JSON [--layers 32] [--rank 16] [--dtype F16|BF16] [--repeats 5]

Builds LlamaForCausalLM with Llama-2-7B's shapes (hidden 4096, MLP 11008, `--layers` layers) directly
on the GPU, wraps it with get_peft_model (q, k, v, o, gate, up, down; random A and B), then times
`merge_adapter()` (W += scale·B·A per module, in place; what merge_and_unload does before it drops
the wrappers) followed by `unmerge_adapter()`, torch.cuda.synchronize() around each. The ceiling is a
device copy of the same weight bytes (read + write), measured the same way.
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
parser.add_argument("--dtype", default="F16", choices=["F16", "BF16"])
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()
dtype = torch.float16 if args.dtype == "F16" else torch.bfloat16

config = LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=args.layers, num_attention_heads=32,
                     num_key_value_heads=32, vocab_size=32000)
with torch.device("cuda"):
    model = LlamaForCausalLM(config).to(dtype)
targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
peft_model = get_peft_model(model, LoraConfig(r=args.rank, lora_alpha=2 * args.rank, target_modules=targets,
                                              init_lora_weights=False))


def timed(fn):
    torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) * 1e3


merge = []
for _ in range(args.repeats + 1):
    merge.append(timed(peft_model.merge_adapter))
    timed(peft_model.unmerge_adapter)
weights = [m.weight for n, m in model.named_modules() if n.split(".")[-1] in targets and hasattr(m, "weight")]
scratch = torch.empty(max(w.numel() for w in weights), dtype=dtype, device="cuda")


def copy_all():
    for w in weights:
        scratch[: w.numel()].copy_(w.view(-1))


copies = [timed(copy_all) for _ in range(args.repeats + 1)]
result = {"layers": args.layers, "rank": args.rank, "dtype": args.dtype, "merge_ms": min(merge[1:]),
          "merge_ms_all": merge, "copy_ms": min(copies[1:]), "weight_bytes": sum(w.numel() * w.element_size() for w in weights),
          "torch": torch.__version__, "gpu": torch.cuda.get_device_name()}
with open(args.out, "w") as f:
    json.dump(result, f, indent=2)
print(json.dumps(result))
