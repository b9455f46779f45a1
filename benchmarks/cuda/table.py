"""Turns the RESULT lines of a benchmark log into a Markdown table with ratios to the ceilings
and the peer measured in the same run. Usage: python3 table.py LOG > results.md
A DEVICE line (CudaUploadBench device) naming the CUDA emulator puts a banner over the table: its
figures are host copies, not measurements. benchmarks/gpu/results.py imports `parse` and `headline`."""
import re
import sys


def parse(path):
    """{name: (GB/s, seconds, bytes)} of the RESULT lines, and whether a DEVICE line names the emulator."""
    rows, emulator = {}, False
    for line in open(path):
        m = re.match(r"RESULT (\S+) ([\d.]+) ([\d.]+) (\d+)", line)
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(3)), int(m.group(4)))
        emulator = emulator or (line.startswith("DEVICE ") and "emulator" in line.lower())
    return rows, emulator


def best(rows, prefix):
    runs = [v for k, v in rows.items() if k.startswith(prefix)]
    return max(runs, key=lambda r: r[0]) if runs else None


def headline(rows):
    """The issue 4 goals as ratios: best warm upload over the pinned H2D rate (goal 0.9) and over the
    peer (goal 3), best cold upload over the raw cold read and over the cold peer."""
    lines = []
    for state, ceiling_name, ceiling_label in (("warm", "h2d_pinned", "pinned H2D"), ("cold", "raw_read_cold", "raw cold read")):
        ours, ceiling, peer = best(rows, f"upload_{state}"), best(rows, ceiling_name), best(rows, f"peer_{state}")
        if not ours:
            continue
        parts = [f"upload {state}: {ours[0]:.2f} GB/s"]
        if ceiling:
            parts.append(f"{ours[0] / ceiling[0]:.2f}x the {ceiling_label}" + (" (goal 0.9)" if state == "warm" else ""))
        if peer:
            parts.append(f"{ours[0] / peer[0]:.2f}x safetensors.torch.load_file" + (" (goal 3)" if state == "warm" else ""))
        lines.append(", ".join(parts))
    return lines


def main():
    rows, emulator = parse(sys.argv[1])
    h2d, raw = best(rows, "h2d_pinned"), best(rows, "raw_read_cold")
    peer_warm, peer_cold = best(rows, "peer_warm"), best(rows, "peer_cold")
    if emulator:
        print("**EMULATOR — not a measurement** (CUDA emulator on host memory; the peer ran on the CPU)\n")
    print("| measurement | GB/s | seconds | bytes | vs ceiling | vs peer |")
    print("|---|---|---|---|---|---|")
    for name, (rate, seconds, size) in rows.items():
        ceiling = raw if "cold" in name else h2d
        peer = peer_cold if "cold" in name else peer_warm
        vs_ceiling = f"{rate / ceiling[0]:.2f}x {'raw cold read' if 'cold' in name else 'pinned H2D'}" \
            if ceiling and not name.startswith(("h2d", "raw_read")) else ""
        vs_peer = f"{rate / peer[0]:.2f}x" if peer and name.startswith("upload") else ""
        print(f"| {name} | {rate:.2f} | {seconds:.3f} | {size} | {vs_ceiling} | {vs_peer} |")


if __name__ == "__main__":
    main()
