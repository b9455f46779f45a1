package dev.safeload.cuda;

import dev.safeload.cuda.internal.upload.Conversion;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Little-endian random tensor data for the upload tests, with values that exercise every rounding
 * case.
 */
final class RandomTensors {
    private RandomTensors() {}

    /**
     * A wide exponent range, so rounding, overflow to infinity and subnormal results all occur on
     * conversion.
     */
    private static float wide(Random random) {
        return (float) (random.nextGaussian() * Math.pow(2, random.nextInt(-30, 20)));
    }

    static byte[] floats(Random random, int n) {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat(wide(random));
        }
        return b.array();
    }

    static byte[] bf16(Random random, int n) {
        ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putShort(Conversion.f32ToBf16(wide(random)));
        }
        return b.array();
    }

    static byte[] f16(Random random, int n) {
        ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putShort(Float.floatToFloat16((float) (random.nextGaussian() * 1000)));
        }
        return b.array();
    }

    static byte[] bytes(Random random, int n) {
        byte[] out = new byte[n];
        random.nextBytes(out);
        return out;
    }
}
