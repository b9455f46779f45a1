#!/usr/bin/env python3
"""Turns one run.sh result folder (fixtures.json, jmh-*.json, peer-*.json, environment.txt) into the
markdown table of benchmarks/README.md.

Every figure is the MEDIAN of the measured iterations (each iteration's mean time per operation),
on both sides: on a shared 2-core machine a neighbour's burst lands in one iteration, and the
median keeps it out of the figure; the spread column shows how noisy the run was.

  GB/s        decimal gigabytes of tensor data per second (for the conversion: BF16 bytes read);
  vs peer     our throughput / the Python reference's, same files, same job (> 1 = faster);
  vs ceiling  our throughput / the memory-copy ceiling measured in the same run: for reads, copying
              the file's data region out of a warm mapping into a reused buffer (the faster of
              MemorySegment.copy and libc memcpy); for the conversion, the time that ceiling needs to
              write the F32 output's bytes over the conversion's time; for the header, header
              bytes per second over the same ceiling (parsing is not copying; shown for scale).
"""
import json
import statistics
import sys
from pathlib import Path

PACKAGE = "dev.safeload.bench.safetensors."
UNIT_SECONDS = {"s/op": 1.0, "ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9}


def jmh_seconds(results):
    """benchmark name (Class.method) -> (median seconds/op, relative spread of the iterations)."""
    out = {}
    for r in results:
        metric = r["primaryMetric"]
        scale = UNIT_SECONDS[metric["scoreUnit"]]
        iterations = [x * scale for fork in metric["rawData"] for x in fork]
        out[r["benchmark"].removeprefix(PACKAGE)] = spread(iterations)
    return out


def spread(iterations):
    median = statistics.median(iterations)
    return median, (max(iterations) - min(iterations)) / median


def peer_seconds(peer):
    return {k: spread(v["iterations"]) for k, v in peer.items()}


def main():
    folder = Path(sys.argv[1])
    fixtures = json.loads((folder / "fixtures.json").read_text())
    ours, peer = {}, {}
    for f in sorted(folder.glob("jmh-*.json")):
        ours.update(jmh_seconds(json.loads(f.read_text())))
    for f in sorted(folder.glob("peer-*.json")):
        peer.update(peer_seconds(json.loads(f.read_text())))
    model, header = fixtures["model"], fixtures["header"]
    data_gb = model["data_bytes"] / 1e9

    def rate(key):
        return data_gb / ours[key][0]

    def best(*keys):
        rates = [rate(k) for k in keys if k in ours]
        return max(rates) if rates else None

    ceiling = best("MemoryCopyCeiling.mappedToNativeJdkCopy", "MemoryCopyCeiling.mappedToNativeMemcpy")
    lines = ["| row | side | what it does per operation | throughput | spread | vs peer | vs ceiling |",
             "|---|---|---|---|---|---|---|"]

    def section(label, peer_key, sides, measure):
        """One row per side that ran. measure(seconds/op) -> (value, text, ceiling-comparable GB/s);
        the peer's side is the last of `sides` and is the 1.00x every other side is divided by."""
        peer_value = measure(peer[peer_key][0])[0] if peer_key in peer else None
        for key, side, what in sides:
            timing = peer.get(peer_key) if key is None else ours.get(key)
            if not timing:
                continue
            value, text, gb_per_s = measure(timing[0])
            vs_peer = "" if peer_value is None else f"{value / peer_value:.2f}x"
            share = gb_per_s / ceiling * 100 if ceiling else None
            vs_ceiling = "" if share is None else f"{share:.0f}%" if share >= 10 else f"{share:.1f}%"
            lines.append(f"| {label} | {side} | {what} | {text} | {timing[1] * 100:.0f}% | {vs_peer} | {vs_ceiling} |")

    # open + validate: operations per second; header bytes per second against the copy ceiling.
    header_gb = header["header_bytes"] / 1e9
    section(f"open+validate a header of {header['tensors']:,} tensors ({header['header_bytes'] / 1e6:.2f} MB)", "header",
            [("HeaderOpenBenchmark.openMmap", "safeload mmap", "SafetensorsFile.open(path), tensors().size(), close"),
             ("HeaderOpenBenchmark.openPread", "safeload pread", "open(path, ReadOptions.of(PREAD)), tensors().size(), close"),
             (None, "Python safetensors", "safe_open(path, 'numpy'), close")],
            lambda s: (1 / s, f"{1 / s:.1f} ops/s ({header_gb / s * 1e3:.0f} MB/s)", header_gb / s))

    # read every tensor: GB/s of tensor data in the file.
    section(f"read every tensor ({model['tensors']} tensors, {data_gb:.2f} GB)", "read",
            [("ReadEveryTensorBenchmark.mmapCopyIntoReusedBuffer", "safeload mmap",
              "open, copy each tensor's segment() into one reused native buffer, close"),
             ("ReadEveryTensorBenchmark.mmapCopyIntoNewBuffer", "safeload mmap",
              "open, copy each tensor into a newly allocated native buffer (as the peer allocates), close"),
             ("ReadEveryTensorBenchmark.mmapOpenedOnceCopyIntoReusedBuffer", "safeload mmap, opened once",
              "the same copies with the file opened once per trial (no mapping cost per operation)"),
             ("ReadEveryTensorBenchmark.preadIntoReusedBuffer", "safeload pread",
              "open(PREAD), readBytes each tensor into one reused native buffer, close"),
             (None, "Python safetensors", "safe_open, get_tensor(name) for every name (a new bytearray each), close")],
            lambda s: (data_gb / s, f"{data_gb / s:.2f} GB/s", data_gb / s))

    # convert: GB/s of BF16 read; the output is twice that, and the ceiling share is the time the
    # copy ceiling needs to write the output over the conversion's time.
    section(f"convert BF16 to F32 ({data_gb:.2f} GB in, {2 * data_gb:.2f} GB out)", "convert",
            [("Bf16ToF32Benchmark.mmapToF32", "safeload mmap", "open, tensor(name).to(DType.F32) for every tensor, close"),
             ("Bf16ToF32Benchmark.mmapToFloatArray", "safeload mmap", "open, tensor(name).toFloatArray() for every tensor, close"),
             (None, "Python safetensors", "safe_open, get_tensor(name).astype(numpy.float32) for every name, close")],
            lambda s: (data_gb / s, f"{data_gb / s:.2f} GB/s in ({2 * data_gb / s:.2f} out)", 2 * data_gb / s))

    lines.append("")
    lines.append("Ceilings measured in the same run (tensor-data region of the model file, in chunks of the largest"
                 " tensor into one reused native buffer):")
    lines.append("")
    lines.append("| ceiling | MemorySegment.copy | libc memcpy |")
    lines.append("|---|---|---|")
    for label, stem in (("anonymous native memory -> native", "nativeToNative"),
                        ("warm mapping of the file (mapped once) -> native", "mappedToNative"),
                        ("file mapped anew per operation -> native", "freshMappingToNative")):
        cells = []
        for copier in ("JdkCopy", "Memcpy"):
            key = f"MemoryCopyCeiling.{stem}{copier}"
            cells.append("n/a" if key not in ours else f"{rate(key):.2f} GB/s ({ours[key][1] * 100:.0f}% spread)")
        lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    env = folder / "environment.txt"
    if env.exists():
        lines.append("")
        lines.extend("    " + l for l in env.read_text().splitlines())
    print("\n".join(lines))


if __name__ == "__main__":
    main()
