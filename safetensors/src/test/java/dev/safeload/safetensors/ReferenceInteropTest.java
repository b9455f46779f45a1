package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.safeload.testing.PythonOracle;
import dev.safeload.testing.RawFiles;
import dev.safeload.testing.ReferenceWriter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Interop both ways with python safetensors (the reference), value for value and byte for byte. */
class ReferenceInteropTest {
    @TempDir Path dir;

    /**
     * Python writes every dtype it can (numpy and ml_dtypes) plus the exact values, as JSON,
     * beside.
     */
    private static final String WRITE =
            """
            import sys, json, numpy as np, ml_dtypes, safetensors
            from safetensors.numpy import save_file
            rng = np.random.default_rng(5)
            t = {
              "f64": rng.normal(size=(3, 4)) * 1e10, "f32": rng.normal(size=(5,)).astype(np.float32),
              "f16": np.array([0.0, -0.0, 65504, 6e-8, -1.5, np.inf], dtype=np.float16),
              "i64": np.array([-2**63, 2**63 - 1, 0], dtype=np.int64), "u64": np.array([2**64 - 1, 7], dtype=np.uint64),
              "i32": np.arange(-3, 3, dtype=np.int32).reshape(2, 3), "u32": np.array([4294967295], dtype=np.uint32),
              "i16": np.array([-32768, 32767], dtype=np.int16), "u16": np.array([65535], dtype=np.uint16),
              "i8": np.array([-128, 127], dtype=np.int8), "u8": np.array([255, 0, 1], dtype=np.uint8),
              "bool": np.array([True, False, True]), "scalar": np.array(2.5, dtype=np.float32),
              "empty": np.zeros((0, 3), dtype=np.float32), "c64": np.array([1 + 2j, -3.5 - 0.25j], dtype=np.complex64),
            }
            save_file(t, sys.argv[1], metadata={"format": "np"})
            expect = {}
            for k, v in t.items():
                flat = v.reshape(-1)
                if v.dtype.kind == "c":
                    vals = [[float(x.real).hex(), float(x.imag).hex()] for x in flat]
                elif v.dtype.kind == "f":
                    vals = [float(x).hex() for x in flat]
                else:
                    vals = [int(x) for x in flat]
                expect[k] = {"shape": list(v.shape), "values": vals}
            ml = {"bf16": ("bfloat16", ml_dtypes.bfloat16), "e4m3": ("float8_e4m3fn", ml_dtypes.float8_e4m3fn),
                  "e5m2": ("float8_e5m2", ml_dtypes.float8_e5m2), "e8m0": ("float8_e8m0fnu", ml_dtypes.float8_e8m0fnu),
                  "e4m3fnuz": ("float8_e4m3fnuz", ml_dtypes.float8_e4m3fnuz), "e5m2fnuz": ("float8_e5m2fnuz", ml_dtypes.float8_e5m2fnuz)}
            keep, specs = [], {}
            for k, (name, typ) in ml.items():
                a = np.array([0.5, -2.0, 3.0, 0.015625, 448.0 if k == "e4m3" else 1.0], dtype=np.float32).astype(typ)
                if k == "e8m0":
                    a = np.abs(a.astype(np.float32)).astype(typ)
                raw = a.view(np.uint8).copy()
                keep.append(raw)
                specs[k] = safetensors.TensorSpec(dtype=name, shape=[a.size], data_ptr=raw.ctypes.data, data_len=raw.nbytes)
                expect[k] = {"shape": [a.size], "values": [float(x).hex() for x in a.astype(np.float64)]}
            safetensors.serialize_file(specs, sys.argv[2], None)
            json.dump(expect, open(sys.argv[3], "w"))
            """;

    @Test
    void filesTheReferenceWritesAreReadValueForValue() throws Exception {
        PythonOracle.assume("safetensors", "numpy", "ml_dtypes");
        Path np = dir.resolve("np.safetensors");
        Path ml = dir.resolve("ml.safetensors");
        Path expect = dir.resolve("expect.json");
        PythonOracle.run(WRITE, List.of(np.toString(), ml.toString(), expect.toString())).orThrow();
        JsonNode expected = new ObjectMapper().readTree(expect.toFile());
        int checked = 0;
        for (ReadOptions.Backend backend : ReadOptions.Backend.values()) {
            try (SafetensorsModel a = SafetensorsModel.open(np, ReadOptions.of(backend));
                    SafetensorsModel b = SafetensorsModel.open(ml, ReadOptions.of(backend))) {
                assertEquals(Map.of("format", "np"), a.metadata());
                for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    SafetensorsModel m = a.contains(e.getKey()) ? a : b;
                    TensorView v = m.tensor(e.getKey());
                    assertEquals(
                            e.getValue().get("shape").toString(),
                            new ObjectMapper().writeValueAsString(v.shape()),
                            e.getKey());
                    JsonNode values = e.getValue().get("values");
                    assertEquals(values.size(), v.elementCount(), e.getKey());
                    for (int i = 0; i < values.size(); i++) {
                        JsonNode x = values.get(i);
                        if (v.dtype() == DType.C64) {
                            assertEquals(
                                    hex(x.get(0).asText()),
                                    v.segment()
                                            .getAtIndex(
                                                    java.lang.foreign.ValueLayout
                                                            .JAVA_FLOAT_UNALIGNED,
                                                    2L * i));
                            assertEquals(
                                    hex(x.get(1).asText()),
                                    v.segment()
                                            .getAtIndex(
                                                    java.lang.foreign.ValueLayout
                                                            .JAVA_FLOAT_UNALIGNED,
                                                    2L * i + 1));
                        } else if (v.dtype().isFloatingPoint()) {
                            assertEquals(
                                    hex(x.asText()),
                                    v.getDouble(index(v, i)),
                                    e.getKey() + "[" + i + "]");
                        } else if (v.dtype() == DType.U64) {
                            assertEquals(
                                    x.bigIntegerValue().longValue(),
                                    v.getLong(index(v, i)),
                                    e.getKey());
                        } else {
                            assertEquals(x.asLong(), v.getLong(index(v, i)), e.getKey());
                        }
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 80, "checked " + checked);
    }

    /** Python's {@code float.hex()}: hexadecimal floats, or inf / -inf / nan. */
    private static double hex(String s) {
        return switch (s) {
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            case "nan" -> Double.NaN;
            default -> Double.parseDouble(s);
        };
    }

    private static long[] index(TensorView v, long flat) {
        long[] idx = new long[v.rank()];
        for (int d = v.rank() - 1; d >= 0; d--) {
            idx[d] = flat % v.dim(d);
            flat /= v.dim(d);
        }
        return idx;
    }

    /** Python reads our file with its own reader and reports what it sees. */
    private static final String READ =
            """
            import sys, json, numpy as np, ml_dtypes, safetensors
            from safetensors import safe_open
            out = {}
            with safe_open(sys.argv[1], framework="np") as f:
                out["__metadata__"] = f.metadata()
                out["keys"] = list(f.keys())
                for k in f.keys():
                    if k == "bf16":
                        continue
                    a = f.get_tensor(k)
                    out[k] = {"dtype": str(a.dtype), "shape": list(a.shape), "values": [float(x) for x in a.reshape(-1)]}
            for name, d in safetensors.deserialize(open(sys.argv[1], "rb").read()):
                if name == "bf16":
                    a = np.frombuffer(bytes(d["data"]), dtype=ml_dtypes.bfloat16)
                    out[name] = {"dtype": d["dtype"], "shape": d["shape"], "values": [float(x) for x in a]}
            print(json.dumps(out))
            """;

    @Test
    void filesWeWriteTheReferenceReads() throws Exception {
        PythonOracle.assume("safetensors", "numpy", "ml_dtypes");
        Path p = dir.resolve("ours.safetensors");
        ByteBuffer bf16 =
                ByteBuffer.allocate(6)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putShort((short) 0x3FC0)
                        .putShort((short) 0xC000)
                        .putShort((short) 0x7F80);
        SafetensorsWriter.create()
                .metadata(Map.of("format", "pt", "note", "\u00e9\"quoted\"\n"))
                .add("w.weight", DType.F32, new long[] {2, 2}, RawFiles.f32(1, -2, 3.5f, 1e-40f))
                .add(
                        "ids",
                        DType.I64,
                        new long[] {3},
                        ByteBuffer.allocate(24)
                                .order(ByteOrder.LITTLE_ENDIAN)
                                .putLong(-1)
                                .putLong(Long.MAX_VALUE)
                                .putLong(0)
                                .array())
                .add("half", DType.F16, new long[] {}, new byte[] {0x00, (byte) 0xBC})
                .add("bf16", DType.BF16, new long[] {3}, bf16.array())
                .add("flags", DType.BOOL, new long[] {2}, new byte[] {1, 0})
                .add("none", DType.U8, new long[] {0}, new byte[0])
                .write(p);
        String out = PythonOracle.run(READ, List.of(p.toString())).orThrow().stdout();
        // python's json writes Infinity, which strict JSON does not have.
        JsonNode r =
                com.fasterxml.jackson.databind.json.JsonMapper.builder()
                        .enable(
                                com.fasterxml.jackson.core.json.JsonReadFeature
                                        .ALLOW_NON_NUMERIC_NUMBERS)
                        .build()
                        .readTree(out);
        assertEquals("pt", r.get("__metadata__").get("format").asText());
        assertEquals("\u00e9\"quoted\"\n", r.get("__metadata__").get("note").asText());
        assertEquals(
                "[1.0,-2.0,3.5," + (double) 1e-40f + "]",
                r.get("w.weight").get("values").toString());
        assertEquals("[2,2]", r.get("w.weight").get("shape").toString());
        assertEquals(
                "[-1.0," + (double) Long.MAX_VALUE + ",0.0]",
                r.get("ids").get("values").toString());
        assertEquals("[-1.0]", r.get("half").get("values").toString());
        assertEquals("[]", r.get("half").get("shape").toString());
        JsonNode bf = r.get("bf16").get("values");
        assertEquals(1.5, bf.get(0).asDouble());
        assertEquals(-2.0, bf.get(1).asDouble());
        assertEquals(Double.POSITIVE_INFINITY, bf.get(2).asDouble());
        assertEquals("[1.0,0.0]", r.get("flags").get("values").toString());
        assertEquals("[0]", r.get("none").get("shape").toString());
    }

    @Test
    void ourBytesEqualTheReferenceWritersForHostileNames() throws Exception {
        PythonOracle.assume("safetensors", "numpy", "ml_dtypes");
        SafetensorsWriter w =
                SafetensorsWriter.create()
                        .metadata(Map.of("k\u0001\t\"\\/", "v\u007f\u2028\ud83d\ude00"));
        String[] names = {
            "",
            "a\"b",
            "back\\slash",
            "ctl\u0000\u001f\b\f\n\r\t",
            "\u00e9\u6f22\ud83d\ude00",
            "z/y",
            "\uffff",
            "\ud800\udc00"
        };
        for (int i = 0; i < names.length; i++) {
            w.add(
                    names[i],
                    i % 2 == 0 ? DType.F16 : DType.I8,
                    new long[] {i % 3},
                    new byte[(i % 3) * (i % 2 == 0 ? 2 : 1)]);
        }
        Path ours = dir.resolve("names.safetensors");
        w.write(ours);
        Path reference = dir.resolve("names-ref.safetensors");
        ReferenceWriter.rewrite(ours, reference, null);
        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(ours));
        try (SafetensorsFile f = SafetensorsFile.open(ours)) {
            for (String n : names) {
                assertTrue(f.contains(n), n);
            }
        }
    }
}
