package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.safeload.testing.PythonOracle;
import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Views: numpy slicing (checked against numpy), views versus copies, element accessors. */
class TensorViewTest {
    @TempDir Path dir;

    private static TensorView iota(long... shape) {
        int n = (int) TensorInfo.elementCount(shape);
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putInt(i);
        }
        return TensorView.of("t", DType.I32, shape, MemorySegment.ofArray(b.array()));
    }

    @Test
    void randomSlicesMatchNumpy() throws Exception {
        PythonOracle.assume("numpy");
        Random r = new Random(11);
        List<Map<String, Object>> cases = new ArrayList<>();
        List<String> ours = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            int rank = r.nextInt(4);
            long[] shape = new long[rank];
            for (int d = 0; d < rank; d++) {
                shape[d] = r.nextInt(6);
            }
            StringBuilder spec = new StringBuilder();
            int parts = r.nextInt(rank + 2);
            boolean ellipsis = false;
            for (int p = 0; p < parts; p++) {
                spec.append(p == 0 ? "" : ",");
                int kind = r.nextInt(6);
                if (kind == 0) {
                    spec.append(r.nextInt(9) - 4);
                } else if (kind == 1 && !ellipsis) {
                    spec.append("...");
                    ellipsis = true;
                } else {
                    spec.append(bound(r)).append(':').append(bound(r));
                    if (r.nextBoolean()) {
                        int step = r.nextInt(7) - 3;
                        spec.append(':').append(step == 0 ? 1 : step);
                    }
                }
            }
            cases.add(Map.of("shape", shape, "spec", spec.toString()));
            try {
                TensorView v = iota(shape).slice(spec.toString());
                ours.add(
                        HexFormat.of().formatHex(v.toByteArray())
                                + " "
                                + java.util.Arrays.toString(v.shape()).replace(" ", ""));
            } catch (SafetensorsException e) {
                assertEquals(SafetensorsError.InvalidSlice, e.kind(), e.getMessage());
                ours.add("ERR");
            }
        }
        Path json = dir.resolve("cases.json");
        new ObjectMapper().writeValue(json.toFile(), cases);
        String out =
                PythonOracle.run(
                                """
                                import sys, json, numpy as np
                                for c in json.load(open(sys.argv[1])):
                                    a = np.arange(int(np.prod(c["shape"])), dtype="<i4").reshape(c["shape"])
                                    try:
                                        v = np.array(eval("a[" + c["spec"] + "]" if c["spec"] else "a[()]"), order="C")
                                        print(v.tobytes().hex(), "[" + ",".join(str(d) for d in v.shape) + "]")
                                    except (IndexError, ValueError):
                                        print("ERR")
                                """,
                                List.of(json.toString()))
                        .orThrow()
                        .stdout();
        List<String> numpy = out.lines().toList();
        for (int i = 0; i < cases.size(); i++) {
            assertEquals(
                    numpy.get(i),
                    ours.get(i),
                    "shape "
                            + java.util.Arrays.toString((long[]) cases.get(i).get("shape"))
                            + " spec ["
                            + cases.get(i).get("spec")
                            + "]");
        }
    }

    private static String bound(Random r) {
        return r.nextInt(3) == 0 ? "" : Integer.toString(r.nextInt(15) - 7);
    }

    @Test
    void contiguousSelectionsAreViewsAndStridedOnesCopies() {
        TensorView t = iota(4, 5, 6);
        long base = t.segment().address();
        TensorView rows = t.slice("1:3");
        assertEquals(base + 30 * 4, rows.segment().address(), "rows 1..2 are one range: a view");
        TensorView one = t.slice("2,3");
        assertEquals(base + (2 * 30 + 3 * 6) * 4, one.segment().address());
        assertArrayEquals(new long[] {6}, one.shape());
        TensorView strided = t.slice(":,1");
        assertNotEquals(base, strided.segment().address());
        assertEquals(4 * 6 * 4, strided.byteSize());
        assertEquals(1 * 6 + 2, strided.getLong(0, 2));
        TensorView empty = t.slice("2:2");
        assertArrayEquals(new long[] {0, 5, 6}, empty.shape());
        assertEquals(0, empty.byteSize());
        assertArrayEquals(
                new long[] {0, 5, 6},
                t.slice("10:10").shape(),
                "numpy clamps; the reference errs here (section 2.5)");
    }

    @Test
    void referenceSliceTestsWithNumpySemantics() {
        // safetensors/src/slice.rs test_slice_variety / test_slice_select on F32 [2,3] = 0..5.
        TensorView t =
                TensorView.of(
                        "t",
                        DType.F32,
                        new long[] {2, 3},
                        MemorySegment.ofArray(RawFiles.f32(0, 1, 2, 3, 4, 5)));
        assertArrayEquals(new float[] {1, 2, 4, 5}, t.slice(":, 1:3").toFloatArray());
        assertArrayEquals(new float[] {4, 5}, t.slice("1, 1:3").toFloatArray());
        assertArrayEquals(new float[] {1, 2}, t.slice("0, 1:3").toFloatArray());
        assertArrayEquals(new float[] {3}, t.slice("1:2, 0").toFloatArray());
        assertArrayEquals(
                new float[] {4, 5}, t.slice("1, 1:4").toFloatArray(), "numpy clamps stop 4 to 3");
        assertEquals(0, t.slice("1, 3:2").elementCount(), "reversed range is empty, not a panic");
        assertEquals(
                SafetensorsError.InvalidSlice,
                assertThrows(SafetensorsException.class, () -> t.slice("1,1,1")).kind());
        assertEquals(
                SafetensorsError.InvalidSlice,
                assertThrows(SafetensorsException.class, () -> t.slice("0,-4")).kind());
        assertEquals(
                SafetensorsError.InvalidSlice,
                assertThrows(SafetensorsException.class, () -> t.slice("::0")).kind());
        assertEquals(
                SafetensorsError.InvalidSlice,
                assertThrows(SafetensorsException.class, () -> t.slice("...,...")).kind());
        assertEquals(
                SafetensorsError.InvalidSlice,
                assertThrows(SafetensorsException.class, () -> t.slice("a")).kind());
        TensorView scalar =
                TensorView.of(
                        "s", DType.F32, new long[] {}, MemorySegment.ofArray(RawFiles.f32(7)));
        assertEquals(7f, scalar.slice("").getFloat());
        assertEquals(7f, scalar.slice("...").getFloat());
        assertEquals(
                SafetensorsError.InvalidSlice,
                assertThrows(SafetensorsException.class, () -> scalar.slice(":")).kind());
    }

    @Test
    void subByteSlicesMustFallOnBytes() {
        // F4 [1,2,2] in 2 bytes (reference test_fp4_simple) and F4 [1,2] in 1 byte
        // (test_fp4_misaligned).
        TensorView f4 =
                TensorView.of(
                        "f",
                        DType.F4,
                        new long[] {1, 2, 2},
                        MemorySegment.ofArray(new byte[] {0x21, 0x43}));
        TensorView first = f4.slice(":, 0:1");
        assertArrayEquals(new long[] {1, 1, 2}, first.shape());
        assertArrayEquals(new byte[] {0x21}, first.toByteArray());
        assertArrayEquals(new byte[] {0x43}, f4.slice("0, 1").toByteArray());
        TensorView small =
                TensorView.of(
                        "g", DType.F4, new long[] {1, 2}, MemorySegment.ofArray(new byte[] {0x21}));
        assertEquals(
                SafetensorsError.MisalignedSlice,
                assertThrows(SafetensorsException.class, () -> small.slice(":, 0:1")).kind());
        assertEquals(
                SafetensorsError.MisalignedSlice,
                assertThrows(
                                SafetensorsException.class,
                                () ->
                                        TensorView.of(
                                                "h",
                                                DType.F4,
                                                new long[] {3},
                                                MemorySegment.ofArray(new byte[2])))
                        .kind());
        assertEquals(
                SafetensorsError.TensorInvalidInfo,
                assertThrows(
                                SafetensorsException.class,
                                () ->
                                        TensorView.of(
                                                "h",
                                                DType.F4,
                                                new long[] {1, 2},
                                                MemorySegment.ofArray(new byte[2])))
                        .kind(),
                "reference test_serialization_fp4_invalid");
    }

    @Test
    void integerAccessors() {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1);
        TensorView u64 =
                TensorView.of("u", DType.U64, new long[] {1}, MemorySegment.ofArray(b.array()));
        assertEquals("18446744073709551615", Long.toUnsignedString(u64.getLong(0)));
        assertEquals(18446744073709551615.0, u64.getDouble(0));
        assertEquals(1.8446744e19f, u64.getFloat(0));
        TensorView i64 =
                TensorView.of("i", DType.I64, new long[] {1}, MemorySegment.ofArray(b.array()));
        assertEquals(-1, i64.getLong(0));
        byte[] raw = {(byte) 0xFF, (byte) 0xFE};
        assertEquals(
                255,
                TensorView.of("a", DType.U8, new long[] {2}, MemorySegment.ofArray(raw))
                        .getLong(0));
        assertEquals(
                -1,
                TensorView.of("a", DType.I8, new long[] {2}, MemorySegment.ofArray(raw))
                        .getLong(0));
        assertEquals(
                0xFEFF,
                TensorView.of("a", DType.U16, new long[] {}, MemorySegment.ofArray(raw)).getLong());
        assertEquals(
                (short) 0xFEFF,
                TensorView.of("a", DType.I16, new long[] {}, MemorySegment.ofArray(raw)).getLong());
        assertEquals(
                1,
                TensorView.of("a", DType.BOOL, new long[] {2}, MemorySegment.ofArray(raw))
                        .getLong(1));
        TensorView f =
                TensorView.of(
                        "f", DType.F32, new long[] {2}, MemorySegment.ofArray(RawFiles.f32(1, 2)));
        assertEquals(
                SafetensorsError.UnsupportedDtype,
                assertThrows(SafetensorsException.class, () -> f.getLong(0)).kind());
        assertThrows(IndexOutOfBoundsException.class, () -> f.getFloat(2));
        assertThrows(IllegalArgumentException.class, () -> f.getFloat(0, 0));
        TensorView c =
                TensorView.of("c", DType.C64, new long[] {1}, MemorySegment.ofArray(new byte[8]));
        assertEquals(
                SafetensorsError.UnsupportedDtype,
                assertThrows(SafetensorsException.class, () -> c.to(DType.F32)).kind());
        assertEquals(
                SafetensorsError.UnsupportedDtype,
                assertThrows(SafetensorsException.class, () -> f.to(DType.I32)).kind());
        assertTrue(f.to(DType.F32) == f, "no conversion, no copy");
    }

    @Test
    void subByteElementsUnpackLowBitsFirstAsMlDtypesValues() throws Exception {
        PythonOracle.assume("numpy", "ml_dtypes");
        String out =
                PythonOracle.run(
                                """
                                import numpy as np, ml_dtypes
                                for t in (ml_dtypes.float4_e2m1fn, ml_dtypes.float6_e2m3fn, ml_dtypes.float6_e3m2fn):
                                    n = 16 if t is ml_dtypes.float4_e2m1fn else 64
                                    print(" ".join(float(x).hex() for x in np.arange(n, dtype=np.uint8).view(t).astype(np.float64)))
                                """,
                                List.of())
                        .orThrow()
                        .stdout();
        List<String> lines = out.lines().toList();
        byte[] f4 = {0x10, 0x32, 0x54, 0x76, (byte) 0x98, (byte) 0xBA, (byte) 0xDC, (byte) 0xFE};
        TensorView v4 = TensorView.of("f4", DType.F4, new long[] {16}, MemorySegment.ofArray(f4));
        String[] e4 = lines.get(0).split(" ");
        for (int i = 0; i < 16; i++) {
            assertEquals(Double.parseDouble(e4[i]), v4.getDouble(i), "F4 " + i);
        }
        for (int k = 0; k < 2; k++) {
            DType d = k == 0 ? DType.F6_E2M3 : DType.F6_E3M2;
            byte[] packed = new byte[48];
            for (int i = 0; i < 64; i++) {
                for (int bit = 0; bit < 6; bit++) {
                    if ((i >> bit & 1) != 0) {
                        packed[(i * 6 + bit) >> 3] |= (byte) (1 << ((i * 6 + bit) & 7));
                    }
                }
            }
            TensorView v = TensorView.of("f6", d, new long[] {64}, MemorySegment.ofArray(packed));
            String[] e = lines.get(1 + k).split(" ");
            for (int i = 0; i < 64; i++) {
                assertEquals(Double.parseDouble(e[i]), v.getDouble(i), d + " " + i);
                assertEquals(i, v.getBitsFlat(i));
            }
        }
        assertTrue(Files.isDirectory(dir));
    }
}
