"""Turns the RESULT lines of a benchmark log into a Markdown table with ratios to the ceilings
and the peer measured in the same run. Usage: python3 table.py LOG > results.md
A DEVICE line (CudaUploadBench device) naming the CUDA emulator puts a banner over the table: its
figures are host copies, not measurements."""
import re
import sys

rows = {}
emulator = False
for line in open(sys.argv[1]):
    m = re.match(r"RESULT (\S+) ([\d.]+) ([\d.]+) (\d+)", line)
    if m:
        rows[m.group(1)] = (float(m.group(2)), float(m.group(3)), int(m.group(4)))
    emulator = emulator or (line.startswith("DEVICE ") and "emulator" in line.lower())

def best(prefix):
    runs = [v for k, v in rows.items() if k.startswith(prefix)]
    return max(runs, key=lambda r: r[0]) if runs else None

h2d = best("h2d_pinned")
raw = best("raw_read_cold")
peer_warm = best("peer_warm")
peer_cold = best("peer_cold")
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
