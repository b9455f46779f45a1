package dev.safeload.testing;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsWriter;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Random;

/** Generated tensors for interop and conversion tests. */
public final class Samples {
    private Samples() {}

    /**
     * Every bit pattern of every 4-, 6-, 8- and 16-bit float dtype, F32 and F64 edge values (NaNs
     * with payloads, infinities, subnormals, rounding ties of F16 and BF16) plus seeded random
     * values, and a few non-float tensors that conversions must leave alone.
     */
    public static SafetensorsWriter everyFloatPattern() {
        SafetensorsWriter w = SafetensorsWriter.create().metadata(Map.of("format", "pt"));
        for (DType d :
                new DType[] {
                    DType.F8_E4M3,
                    DType.F8_E5M2,
                    DType.F8_E4M3FNUZ,
                    DType.F8_E5M2FNUZ,
                    DType.F8_E8M0
                }) {
            byte[] b = new byte[256];
            for (int i = 0; i < 256; i++) {
                b[i] = (byte) i;
            }
            w.add("all_" + d.formatName(), d, new long[] {16, 16}, b);
        }
        byte[] f4 = new byte[8];
        for (int i = 0; i < 16; i += 2) {
            f4[i / 2] = (byte) (i | (i + 1) << 4);
        }
        w.add("all_F4", DType.F4, new long[] {16}, f4);
        for (DType d : new DType[] {DType.F6_E2M3, DType.F6_E3M2}) {
            byte[] f6 = new byte[48];
            for (int i = 0; i < 64; i++) {
                for (int bit = 0; bit < 6; bit++) {
                    if ((i >> bit & 1) != 0) {
                        int at = i * 6 + bit;
                        f6[at >> 3] |= (byte) (1 << (at & 7));
                    }
                }
            }
            w.add("all_" + d.formatName(), d, new long[] {64}, f6);
        }
        for (DType d : new DType[] {DType.F16, DType.BF16}) {
            ByteBuffer b = ByteBuffer.allocate(65536 * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 65536; i++) {
                b.putShort((short) i);
            }
            w.add("all_" + d.formatName(), d, new long[] {256, 256}, b.array());
        }
        Random r = new Random(7);
        int[] f32Edges = {
            0,
            0x80000000,
            0x3F800000,
            0xBF800000,
            0x7FC00000,
            0xFFC00000,
            0x7F800001,
            0x7FA00000,
            0xFF812345,
            0x7F800000,
            0xFF800000,
            0x00000001,
            0x807FFFFF,
            0x00800000,
            0x7F7FFFFF,
            0x3F808000,
            0x3F818000,
            0x3F80FFFF,
            0x477FE000,
            0x477FF000,
            0x477FEFFF,
            0x33800000,
            0x33000000,
            0x33000001,
            0x387FC000,
            0x38800000,
            0x7F7FFFFF
        };
        ByteBuffer f32 =
                ByteBuffer.allocate((f32Edges.length + 4000) * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int e : f32Edges) {
            f32.putInt(e);
        }
        for (int i = 0; i < 2000; i++) {
            f32.putInt(r.nextInt());
            f32.putFloat((float) (r.nextGaussian() * Math.pow(2, r.nextInt(40) - 20)));
        }
        w.add("edges_F32", DType.F32, new long[] {f32.capacity() / 4}, f32.array());
        long[] f64Edges = {
            0,
            0x8000000000000000L,
            Double.doubleToRawLongBits(1 + 0x1p-11 + 0x1p-40),
            Double.doubleToRawLongBits(65520.0),
            Double.doubleToRawLongBits(65519.99),
            0x7FF8000000000000L,
            0xFFF0000000000001L,
            0x7FF0000000000000L,
            1L,
            Double.doubleToRawLongBits(0x1p-25),
            Double.doubleToRawLongBits(0x1p-25 + 0x1p-60),
            Double.doubleToRawLongBits(3.4028235677973366e38),
            Double.doubleToRawLongBits(1e300),
            Double.doubleToRawLongBits(1 + 0x1p-8 + 0x1p-40)
        };
        ByteBuffer f64 =
                ByteBuffer.allocate((f64Edges.length + 2000) * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long e : f64Edges) {
            f64.putLong(e);
        }
        for (int i = 0; i < 1000; i++) {
            f64.putLong(r.nextLong());
            f64.putDouble(r.nextGaussian() * Math.pow(2, r.nextInt(60) - 30));
        }
        w.add("edges_F64", DType.F64, new long[] {f64.capacity() / 8}, f64.array());
        byte[] ints = new byte[24];
        r.nextBytes(ints);
        w.add("ints_I32", DType.I32, new long[] {2, 3}, ints);
        w.add("flags", DType.BOOL, new long[] {3}, new byte[] {0, 1, 1});
        w.add("complex", DType.C64, new long[] {1}, java.util.Arrays.copyOf(ints, 8));
        w.add("scalar_F16", DType.F16, new long[] {}, new byte[] {0x00, 0x3C});
        w.add("empty_BF16", DType.BF16, new long[] {0, 4}, new byte[0]);
        return w;
    }
}
