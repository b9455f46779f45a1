"""Prints the LoRA benchmark tables from a results folder (run-cpu.sh, or benchmarks/gpu/run.sh's lora/).

usage: report.py RESULTS_DIR

Reads, where present: jmh-cpu-merge, jmh-cpu-serving, jmh-gpu-merge and jmh-gpu-serving (JMH JSON,
each NAME.json and NAME-*.json), ceilings.log (CudaUploadBench: RESULT lines of d2d, the HBM
roofline; FLOPS lines of gemm, the GEMM ceiling), peft.json (peft_bench.py) and device.txt
(CudaUploadBench device). Every figure is put beside a ceiling or a peer measured in the same run.
When device.txt names the CUDA emulator, every table says so: its figures are host loops, not
measurements.
"""
import glob
import json
import os
import re
import sys

EMULATOR_BANNER = "**EMULATOR — not a measurement** (the CUDA emulator runs on host memory with naive loops; " \
                  "these figures only show that the scripts run)\n"


def layer_elements(hidden, mlp):
    return 4 * hidden * hidden + 3 * hidden * mlp  # q, k, v, o + gate, up, down


def load(out, name):
    """The rows of OUT/NAME.json and of OUT/NAME-*.json (benchmarks/gpu/run.sh runs JMH in parts, so
    that a part cut off by its time limit loses only its own rows; JMH writes JSON at the end)."""
    rows = []
    for path in sorted(glob.glob(os.path.join(out, name + ".json")) + glob.glob(os.path.join(out, name + "-*.json"))):
        with open(path) as f:
            text = f.read().strip()
        rows += json.loads(text) if text else []
    return rows


def is_emulator(out):
    path = os.path.join(out, "device.txt")
    return os.path.exists(path) and "emulator" in open(path).read().lower()


def error(metric):
    """JMH's error bar; it writes the string "NaN" when there was only one iteration."""
    try:
        return float(metric["scoreError"])
    except (TypeError, ValueError):
        return float("nan")


def by(rows, name, **params):
    for r in rows:
        if r["benchmark"].endswith("." + name) and all(r["params"].get(k) == str(v) for k, v in params.items()):
            return r["primaryMetric"]
    return None


def best_rate(path, prefix):
    """Highest GB/s of the RESULT lines whose name starts with prefix."""
    if not os.path.exists(path):
        return None
    rates = [float(m.group(2)) for m in (re.match(r"RESULT (\S+) ([\d.]+)", line) for line in open(path))
             if m and m.group(1).startswith(prefix)]
    return max(rates) if rates else None


def best_flops(path):
    """Highest TFLOP/s of the FLOPS lines (CudaUploadBench gemm), or None."""
    if not os.path.exists(path):
        return None
    rates = [float(m.group(1)) for m in (re.match(r"FLOPS \S+ ([0-9.eE+-]+)", line) for line in open(path)) if m]
    return max(rates) if rates else None


def peft_results(out):
    path = os.path.join(out, "peft.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        p = json.load(f)
    # One entry per dtype; older files held a single result.
    return {r["dtype"]: r for r in p.get("results", [p])}


def merge_table(rows, title, merge_names, ceiling_name, roofline=None, peft=None):
    if not rows:
        return
    peft = peft or {}
    print(f"### {title}\n")
    print("| dtype | layers | shape (hidden, MLP) | row | ms per op | ms per layer | GB/s (read W + write W) "
          "| vs ceiling (same weights, same run) | vs D2D roofline | vs peft (peft time / ours) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for dtype in ("F16", "BF16"):
        of_dtype = [r for r in rows if r["params"].get("dtype") == dtype]
        for key in sorted({(int(r["params"]["layers"]), r["params"].get("hidden", "4096"), r["params"].get("mlp", "11008"))
                           for r in of_dtype}):
            layers, hidden, mlp = key
            shape = {"layers": layers} | ({"hidden": hidden, "mlp": mlp} if "hidden" in of_dtype[0]["params"] else {})
            ceiling = by(rows, ceiling_name, dtype=dtype, **shape)
            moved = 2 * 2 * layer_elements(int(hidden), int(mlp)) * layers  # bytes read + written, 2-byte elements
            p = peft.get(dtype)
            same_shape = p and p["layers"] == layers and p.get("hidden", 4096) == int(hidden)
            for name in merge_names + [ceiling_name]:
                m = by(rows, name, dtype=dtype, **shape)
                if m is None:
                    continue
                ms = m["score"]
                gbs = moved / (ms / 1e3) / 1e9
                if name == ceiling_name:
                    ratio = "1 (ceiling)"
                elif ceiling:
                    ratio = f"{ceiling['score'] / ms:.2f} ({ms / ceiling['score']:.2f}x its time)"
                else:
                    ratio = ""
                vs_roof = f"{gbs / roofline:.2f}" if roofline else ""
                vs_peft = f"{p['merge_ms'] / ms:.2f}x" if same_shape and name != ceiling_name else ""
                print(f"| {dtype} | {layers} | {hidden}, {mlp} | {name} | {ms:.2f} ± {error(m):.2f} | {ms / layers:.2f} "
                      f"| {gbs:.1f} | {ratio} | {vs_roof} | {vs_peft} |")
    print()


def serving_table(rows, title, gemm_ceiling=None):
    if not rows:
        return
    print(f"### {title}\n")
    print("| tokens | adapters | merged matmul µs | merged matmul TFLOP/s (vs GEMM ceiling) | LoRA apply µs "
          "| overhead (apply / matmul) |")
    print("|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (int(r["params"]["tokens"]), int(r["params"]["adapters"]))):
        if not r["benchmark"].endswith(".loraApply"):
            continue
        p = r["params"]
        base = by(rows, "mergedMatmul", **p)
        apply = r["primaryMetric"]
        if base is None:
            print(f"| {p['tokens']} | {p['adapters']} | (missing) | | {apply['score']:.0f} ± {error(apply):.0f} | |")
            continue
        hidden = int(p.get("hidden", 4096))
        tflops = 2 * int(p["tokens"]) * hidden * hidden / (base["score"] * 1e-6) / 1e12
        vs = f" ({tflops / gemm_ceiling:.2f})" if gemm_ceiling else ""
        print(f"| {p['tokens']} | {p['adapters']} | {base['score']:.0f} ± {error(base):.0f} | {tflops:.3g}{vs} | "
              f"{apply['score']:.0f} ± {error(apply):.0f} | {100 * apply['score'] / base['score']:.1f} % |")
    print()


def peft_table(peft, roofline):
    if not peft:
        return
    print("### peft on the same device (peft_bench.py: merge_adapter() of every module, then unmerge)\n")
    print("| dtype | layers | hidden, MLP | device | peft merge_adapter ms (best) | torch copy of the same weights ms "
          "| peft vs its copy ceiling | torch copy GB/s vs D2D roofline |")
    print("|---|---|---|---|---|---|---|---|")
    for dtype, p in peft.items():
        copy_gbs = 2 * p["weight_bytes"] / (p["copy_ms"] / 1e3) / 1e9
        vs_roof = f"{copy_gbs / roofline:.2f}" if roofline else ""
        print(f"| {dtype} | {p['layers']} | {p.get('hidden', 4096)}, {p.get('mlp', 11008)} | {p.get('device', 'cuda')} "
              f"| {p['merge_ms']:.1f} | {p['copy_ms']:.1f} | {p['copy_ms'] / p['merge_ms']:.2f} | {vs_roof} |")
    print()


def cpu_vs_gpu(cpu_rows, gpu_rows):
    """Per-layer merge time of the CPU backend beside the CUDA backend's, same dtype and shape, same run."""
    if not cpu_rows or not gpu_rows:
        return
    lines = []
    for dtype in ("F16", "BF16"):
        cpu = [r for r in cpu_rows if r["benchmark"].endswith(".merge") and r["params"].get("dtype") == dtype]
        gpu = [r for r in gpu_rows if r["benchmark"].endswith(".mergeResident") and r["params"].get("dtype") == dtype]
        if not cpu or not gpu:
            continue
        c, g = cpu[0], gpu[0]
        if g["params"].get("hidden", "4096") != "4096":
            continue  # the CPU benchmark has Llama-2-7B's widths only
        c_ms = c["primaryMetric"]["score"] / int(c["params"]["layers"])
        g_ms = g["primaryMetric"]["score"] / int(g["params"]["layers"])
        lines.append(f"| {dtype} | {c_ms:.1f} | {g_ms:.2f} | {c_ms / g_ms:.0f}x |")
    if lines:
        print("### CUDA merge against the CPU backend on the same machine (per 7B layer)\n")
        print("| dtype | CPU merge ms per layer (all cores) | CUDA mergeResident ms per layer | CUDA speed-up |")
        print("|---|---|---|---|")
        print("\n".join(lines) + "\n")


def headline(out):
    """One line per GPU merge dtype and serving batch: the ratios the issue asks for (imported by
    benchmarks/gpu/results.py for the top of results.md)."""
    lines = []
    roofline = best_rate(os.path.join(out, "ceilings.log"), "d2d_copy")
    peft = peft_results(out)
    merge = load(out, "jmh-gpu-merge")
    for dtype in ("F16", "BF16"):
        rows = [r for r in merge if r["params"].get("dtype") == dtype and r["benchmark"].endswith(".mergeResident")]
        if not rows:
            continue
        p = rows[0]["params"]
        layers, hidden, mlp = int(p["layers"]), int(p.get("hidden", 4096)), int(p.get("mlp", 11008))
        ms = rows[0]["primaryMetric"]["score"]
        ceiling = by(merge, "deviceCopyCeiling", **p)
        parts = [f"merge {dtype} ({layers} layers, factors resident): {ms:.2f} ms"]
        if roofline:
            parts.append(f"{2 * 2 * layer_elements(hidden, mlp) * layers / (ms / 1e3) / 1e9 / roofline:.2f} of the D2D roofline")
        if ceiling:
            parts.append(f"{ceiling['score'] / ms:.2f} of a copy of the same weights")
        q = peft.get(dtype)
        if q and q["layers"] == layers and q.get("hidden", 4096) == hidden:
            parts.append(f"{q['merge_ms'] / ms:.2f}x as fast as peft")
        lines.append(", ".join(parts))
    serving = load(out, "jmh-gpu-serving")
    for tokens in sorted({int(r["params"]["tokens"]) for r in serving}):
        overheads = []
        for r in sorted(serving, key=lambda r: int(r["params"]["adapters"])):
            if int(r["params"]["tokens"]) != tokens or not r["benchmark"].endswith(".loraApply"):
                continue
            base = by(serving, "mergedMatmul", **r["params"])
            if base:
                overheads.append(f"{r['params']['adapters']}: {100 * r['primaryMetric']['score'] / base['score']:.0f} %")
        if overheads:
            lines.append(f"serving {tokens} tokens, LoRA apply over the merged matmul, by adapters: " + ", ".join(overheads))
    return lines


def main():
    out = sys.argv[1]
    if is_emulator(out):
        print(EMULATOR_BANNER)
    roofline = best_rate(os.path.join(out, "ceilings.log"), "d2d_copy")
    gemm_ceiling = best_flops(os.path.join(out, "ceilings.log"))
    peft = peft_results(out)
    cpu_merge = load(out, "jmh-cpu-merge")
    gpu_merge = load(out, "jmh-gpu-merge")
    merge_table(cpu_merge, "CPU merge (7B-shaped layers, rank 16, in place)", ["merge"], "readWriteCeiling")
    serving_table(load(out, "jmh-cpu-serving"), "CPU serving without merging (4096x4096 F16, rank 16)")
    if roofline:
        print(f"D2D roofline (one large device-to-device copy, CudaUploadBench d2d, best run): **{roofline:.1f} GB/s** "
              "read + written.\n")
    if gemm_ceiling:
        print(f"GEMM ceiling (cublasGemmEx, square F16, fp32 compute, CudaUploadBench gemm, best run): "
              f"**{gemm_ceiling:.3g} TFLOP/s**.\n")
    merge_table(gpu_merge, "GPU merge (7B-shaped, rank 16, in place on device)", ["mergeResident", "mergeWithUpload"],
                "deviceCopyCeiling", roofline, peft)
    cpu_vs_gpu(cpu_merge, gpu_merge)
    serving_table(load(out, "jmh-gpu-serving"), "GPU serving without merging (F16 q_proj, rank 16)", gemm_ceiling)
    peft_table(peft, roofline)


if __name__ == "__main__":
    main()
