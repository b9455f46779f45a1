"""Writes results.md for benchmarks/gpu/run.sh from what the run has left in OUT so far (it is called
after every step, so a run cut off by the time limit still has its table).

usage: results.py OUT > OUT/results.md

Sections: the device (and a banner when it is the CUDA emulator: then nothing here is a
measurement), the GPU tests (JUnit XML under OUT/tests), the peft merge_and_unload checks
(OUT/checks.log), the upload table (benchmarks/cuda/table.py on OUT/upload/bench.log), the LoRA tables
(benchmarks/lora/report.py on OUT/lora), every step's status and time, and the exact commands.
"""
import glob
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

out = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
benchmarks = os.path.dirname(here)
sys.dont_write_bytecode = True  # no __pycache__ left in the tree
sys.path[:0] = [os.path.join(benchmarks, "cuda"), os.path.join(benchmarks, "lora")]
import report  # noqa: E402  (benchmarks/lora/report.py)
import table  # noqa: E402  (benchmarks/cuda/table.py)


def read(name):
    path = os.path.join(out, name)
    return open(path, errors="replace").read() if os.path.exists(path) else ""


device = read("device.txt").strip()
emulator = "emulator" in device.lower()
print("# safeload GPU results\n")
if emulator:
    print("**EMULATOR — not a measurement.** This run used the CUDA emulator (native/src/test/emulator: host "
          "memory, naive loops) and torch on the CPU: it shows that the scripts and benchmarks run end to end, "
          "nothing about any GPU. Never quote these figures.\n")
print(f"- device: `{device or 'unknown (CudaUploadBench device did not run or failed)'}`")
if not device and read("device.log"):
    print("\n```\n" + "\n".join(read("device.log").strip().splitlines()[-12:]) + "\n```\n")
for line in read("env.txt").splitlines():
    if line.startswith("stale:"):
        print(f"- **{line}**")
    elif line.startswith(("gpu:", "torch:", "java:", "mode:", "cublas:", "started:", "bench dir:", "cpu:")):
        print(f"- {line}")
print()

# Tests: the console launcher's XML (one file per engine and launcher run), counted per class.
runs = {}
for path in sorted(glob.glob(os.path.join(out, "tests", "junit-*", "*.xml"))):
    runs.setdefault(os.path.basename(os.path.dirname(path)).removeprefix("junit-"), []).append(path)
counts, problems = {}, []  # (run, class) -> [tests, failed, skipped]
for run, paths in runs.items():
    found = False
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            problems.append(f"{run}: unreadable report {os.path.basename(path)}: {e}")
            continue
        for case in root.iter("testcase"):
            found = True
            c = counts.setdefault((run, case.get("classname", "?")), [0, 0, 0])
            c[0] += 1
            if case.find("failure") is not None or case.find("error") is not None:
                c[1] += 1
                problems.append(f"{run}: {case.get('classname')}.{case.get('name')} FAILED")
            elif case.find("skipped") is not None:
                c[2] += 1
                reason = case.find("skipped").get("message") or (case.find("skipped").text or "").strip()
                problems.append(f"{run}: {case.get('classname')}.{case.get('name')} skipped: {reason[:160]}")
    if not found:
        counts[(run, "(no tests found)")] = [0, 0, 0]
checks = [line.split(" ", 3) for line in read("checks.log").splitlines() if line.startswith("CHECK ")]

headlines = []
if counts:
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    headlines.append(f"tests: {total[0]} run, {total[1]} failed, {total[2]} skipped")
if checks:
    headlines.append("lora merge --device cuda against peft merge_and_unload: "
                     + ", ".join(f"{label} {status}" for _, label, status, _ in checks))
if os.path.exists(os.path.join(out, "upload", "bench.log")):
    headlines += table.headline(table.parse(os.path.join(out, "upload", "bench.log"))[0])
if os.path.isdir(os.path.join(out, "lora")):
    headlines += report.headline(os.path.join(out, "lora"))
if headlines:
    print("## Headline (each figure a ratio to a ceiling or peer measured in this run; details below)"
          + (": EMULATOR, not measurements" if emulator else "") + "\n")
    for line in headlines:
        print(f"- {line}")
    print()

if counts:
    print("## Tests on this machine (JUnit console launcher, -Dsafeload.gpu.required=true): the gpu tag, and the peft oracle\n")
    print("| run | class | tests | failed | skipped |")
    print("|---|---|---|---|---|")
    for (run, name), (n, failed, skipped) in sorted(counts.items()):
        print(f"| {run} | {name.removeprefix('dev.safeload.')} | {n} | {failed} | {skipped} |")
    print()
    if problems:
        print("Failed or skipped (a GPU test skipped on the GPU machine means something is missing there):\n")
        for p in problems[:40]:
            print(f"- {p}")
        print()

if checks:
    print("## CUDA merge against peft merge_and_unload (safeload lora merge --device cuda / cpu)\n")
    print("| case | result | detail |")
    print("|---|---|---|")
    for _, label, status, detail in checks:
        print(f"| {label} | {status} | {detail} |")
    print()


def section(title, command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.stdout.strip():
        print(f"## {title}\n")
        print(result.stdout)
    if result.returncode != 0:
        print(f"({os.path.basename(command[1])} failed: {result.stderr.strip()[-400:]})\n")


if os.path.exists(os.path.join(out, "upload", "bench.log")):
    section("Upload: ModelUploader against the pinned H2D ceiling, the cold read and safetensors.torch.load_file",
            [sys.executable, os.path.join(benchmarks, "cuda", "table.py"), os.path.join(out, "upload", "bench.log")])
if os.path.isdir(os.path.join(out, "lora")):
    section("LoRA: merge against the HBM roofline and peft, serving against the merged matmul",
            [sys.executable, os.path.join(benchmarks, "lora", "report.py"), os.path.join(out, "lora")])

steps = [line.split("\t") for line in read("steps.tsv").splitlines() if line.strip()]
if steps:
    print("## Steps\n")
    print("| step | status | seconds |")
    print("|---|---|---|")
    for s in steps:
        print(f"| {s[0]} | {s[1]} | {s[2] if len(s) > 2 else ''} |")
    print()
commands = read("commands.txt")
if commands:
    print("## Commands (in order, from the repository root unless a cd says otherwise)\n")
    print("```")
    print(commands.rstrip())
    print("```")
