"""Prints the LoRA benchmark tables from the JMH JSON files in a results folder (run-cpu.sh / run-gpu.sh).

usage: report.py RESULTS_DIR
"""
import json
import os
import sys

HIDDEN, MLP = 4096, 11008
LAYER_ELEMENTS = 4 * HIDDEN * HIDDEN + 3 * HIDDEN * MLP  # q, k, v, o + gate, up, down


def load(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)


def by(rows, name, **params):
    for r in rows:
        if r["benchmark"].endswith("." + name) and all(r["params"].get(k) == str(v) for k, v in params.items()):
            return r["primaryMetric"]
    return None


def merge_table(rows, title, merge_names, ceiling_name):
    if not rows:
        return
    print(f"### {title}\n")
    print("| dtype | layers | row | ms per op | ms per layer | GB/s (read W + write W) | vs ceiling |")
    print("|---|---|---|---|---|---|---|")
    for dtype in ("F16", "BF16"):
        layers_seen = sorted({int(r["params"]["layers"]) for r in rows if r["params"].get("dtype") == dtype})
        for layers in layers_seen:
            ceiling = by(rows, ceiling_name, dtype=dtype, layers=layers)
            moved = 2 * 2 * LAYER_ELEMENTS * layers  # bytes read + written, 2-byte elements
            for name in merge_names + [ceiling_name]:
                m = by(rows, name, dtype=dtype, layers=layers)
                if m is None:
                    continue
                ms = m["score"]
                gbs = moved / (ms / 1e3) / 1e9
                ratio = f"{ms / ceiling['score']:.2f}x the ceiling's time" if ceiling and name != ceiling_name else "1 (ceiling)"
                print(f"| {dtype} | {layers} | {name} | {ms:.1f} ± {m['scoreError']:.1f} | {ms / layers:.1f} | {gbs:.2f} | {ratio} |")
    print()


def serving_table(rows, title):
    if not rows:
        return
    print(f"### {title}\n")
    print("| tokens | adapters | merged matmul µs | LoRA apply µs | overhead (apply / matmul) |")
    print("|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (int(r["params"]["tokens"]), int(r["params"]["adapters"]))):
        if not r["benchmark"].endswith(".loraApply"):
            continue
        p = r["params"]
        base = by(rows, "mergedMatmul", adapters=p["adapters"], tokens=p["tokens"])
        apply = r["primaryMetric"]
        print(f"| {p['tokens']} | {p['adapters']} | {base['score']:.0f} ± {base['scoreError']:.0f} | "
              f"{apply['score']:.0f} ± {apply['scoreError']:.0f} | {100 * apply['score'] / base['score']:.1f} % |")
    print()


def main():
    out = sys.argv[1]
    merge_table(load(os.path.join(out, "jmh-cpu-merge.json")), "CPU merge (7B-shaped layers, rank 16, in place)",
                ["merge"], "readWriteCeiling")
    serving_table(load(os.path.join(out, "jmh-cpu-serving.json")), "CPU serving without merging (4096x4096 F16, rank 16)")
    merge_table(load(os.path.join(out, "jmh-gpu-merge.json")), "GPU merge (7B-shaped, rank 16, in place on device)",
                ["mergeResident", "mergeWithUpload"], "deviceCopyCeiling")
    serving_table(load(os.path.join(out, "jmh-gpu-serving.json")), "GPU serving without merging (4096x4096 F16, rank 16)")
    peer = os.path.join(out, "peft.json")
    if os.path.exists(peer):
        with open(peer) as f:
            p = json.load(f)
        print("### peft on the same GPU\n")
        print("| layers | dtype | peft merge_adapter ms | torch copy ceiling ms |")
        print("|---|---|---|---|")
        print(f"| {p['layers']} | {p['dtype']} | {p['merge_ms']:.1f} | {p['copy_ms']:.1f} |\n")


main()
