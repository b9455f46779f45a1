package dev.safeload.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The reference writer and ml_dtypes as oracles, through python: {@link #rewrite} reads a file and
 * writes the same tensors and metadata again with {@code safetensors.serialize_file} (what {@code
 * save_file} calls), optionally casting every floating-point tensor with ml_dtypes/numpy {@code
 * astype}, the conversions safeload must reproduce bit for bit.
 */
public final class ReferenceWriter {
    /** Python: rewrite IN OUT [TARGET]. Packed F4/F6 are unpacked low bits first to cast them. */
    private static final String SCRIPT =
            """
            import sys, json, numpy as np, ml_dtypes, safetensors
            SPEC = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "U16": "uint16", "I32": "int32",
                    "U32": "uint32", "I64": "int64", "U64": "uint64", "F16": "float16", "F32": "float32", "F64": "float64",
                    "BF16": "bfloat16", "F8_E4M3": "float8_e4m3fn", "F8_E4M3FNUZ": "float8_e4m3fnuz", "F8_E5M2": "float8_e5m2",
                    "F8_E5M2FNUZ": "float8_e5m2fnuz", "F8_E8M0": "float8_e8m0fnu", "F4": "float4_e2m1fn_x2", "C64": "complex64"}
            NP = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "BF16": ml_dtypes.bfloat16,
                  "F8_E4M3": ml_dtypes.float8_e4m3fn, "F8_E4M3FNUZ": ml_dtypes.float8_e4m3fnuz, "F8_E5M2": ml_dtypes.float8_e5m2,
                  "F8_E5M2FNUZ": ml_dtypes.float8_e5m2fnuz, "F8_E8M0": ml_dtypes.float8_e8m0fnu, "F4": ml_dtypes.float4_e2m1fn,
                  "F6_E2M3": ml_dtypes.float6_e2m3fn, "F6_E3M2": ml_dtypes.float6_e3m2fn}
            def unpack(raw, bits, count):
                value = int.from_bytes(raw, "little")
                return np.array([(value >> (bits * i)) & ((1 << bits) - 1) for i in range(count)], dtype=np.uint8)
            def values(dtype, raw, count):
                if dtype == "F4":
                    return unpack(raw, 4, count).view(ml_dtypes.float4_e2m1fn)
                if dtype in ("F6_E2M3", "F6_E3M2"):
                    return unpack(raw, 6, count).view(NP[dtype])
                return np.frombuffer(raw, dtype=NP[dtype])
            src, dst = sys.argv[1], sys.argv[2]
            target = sys.argv[3] if len(sys.argv) > 3 else None
            data = open(src, "rb").read()
            n = int.from_bytes(data[:8], "little")
            header = json.loads(data[8:8 + n])
            metadata = header.pop("__metadata__", None)
            keep, specs = [], {}
            for name, info in header.items():
                b, e = info["data_offsets"]
                raw = data[8 + n + b: 8 + n + e]
                dtype, shape = info["dtype"], list(info["shape"])
                if target and dtype in NP:
                    count = int(np.prod(shape)) if shape else 1
                    arr = np.ascontiguousarray(values(dtype, raw, count).astype(NP[target])).view(np.uint8)
                    dtype = target
                else:
                    arr = np.frombuffer(raw, dtype=np.uint8).copy()
                if dtype == "F4":
                    shape = shape[:-1] + [shape[-1] // 2]
                keep.append(arr)
                specs[name] = safetensors.TensorSpec(dtype=SPEC[dtype], shape=shape, data_ptr=arr.ctypes.data, data_len=arr.nbytes)
            safetensors.serialize_file(specs, dst, metadata)
            """;

    private ReferenceWriter() {}

    /**
     * Rewrites {@code in} to {@code out} with the reference writer, casting floats to {@code
     * target} if not null.
     */
    public static void rewrite(Path in, Path out, String target) {
        List<String> args = new ArrayList<>(List.of(in.toString(), out.toString()));
        if (target != null) {
            args.add(target);
        }
        PythonOracle.run(SCRIPT, args, Map.of(), 300).orThrow();
    }
}
