package dev.safeload.cuda.internal.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The conversions' bits, three ways: the Java reference ({@link Conversion}) against numpy's {@code
 * astype(float16)} and c10's bf16 rounding formula for every 16-bit input and a million f32 inputs
 * (ties, subnormals, overflow included), and against the CUDA C functions the kernels run
 * (src/main/cuda/convert.cu, compiled for the host with nvcc) for every input, NaNs included.
 */
class ConversionBitsTest {
    @TempDir Path dir;

    /** Every 16-bit pattern. */
    private static short[] all16() {
        short[] out = new short[65536];
        for (int i = 0; i < out.length; i++) {
            out[i] = (short) i;
        }
        return out;
    }

    /**
     * Random f32 patterns plus, for every sign and exponent, mantissas at and around both rounding
     * ties.
     */
    private static int[] f32Inputs() {
        int[] mantissas = {
            0, 1, 0xFFF, 0x1000, 0x1001, 0x2000, 0x3000, 0x7FFF, 0x8000, 0x8001, 0x18000, 0x400000,
            0x7FE000, 0x7FF000, 0x7FFFFF
        };
        int[] out = new int[(1 << 20) + 2 * 256 * mantissas.length];
        Random random = new Random(11);
        int n = 0;
        for (int i = 0; i < 1 << 20; i++) {
            out[n++] = random.nextInt();
        }
        for (int sign = 0; sign < 2; sign++) {
            for (int exponent = 0; exponent < 256; exponent++) {
                for (int mantissa : mantissas) {
                    out[n++] = sign << 31 | exponent << 23 | mantissa;
                }
            }
        }
        return out;
    }

    private static short java(Conversion c, int input) {
        return switch (c) {
            case F32_TO_F16 -> Conversion.f32ToF16(Float.intBitsToFloat(input));
            case F32_TO_BF16 -> Conversion.f32ToBf16(Float.intBitsToFloat(input));
            case BF16_TO_F16 -> Conversion.f32ToF16(Conversion.bf16ToF32((short) input));
            case F16_TO_BF16 -> Conversion.f32ToBf16(Float.float16ToFloat((short) input));
        };
    }

    private static boolean isNaNInput(Conversion c, int input) {
        return switch (c) {
            case F32_TO_F16, F32_TO_BF16 -> Float.isNaN(Float.intBitsToFloat(input));
            case BF16_TO_F16 -> Float.isNaN(Conversion.bf16ToF32((short) input));
            case F16_TO_BF16 -> Float.isNaN(Float.float16ToFloat((short) input));
        };
    }

    private static int[] inputs(Conversion c) {
        if (c.sourceBytes() == 4) {
            return f32Inputs();
        }
        short[] s = all16();
        int[] out = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[i] & 0xFFFF;
        }
        return out;
    }

    private Path write(Conversion c, int[] inputs) throws IOException {
        ByteBuffer b =
                ByteBuffer.allocate(inputs.length * c.sourceBytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : inputs) {
            if (c.sourceBytes() == 4) {
                b.putInt(v);
            } else {
                b.putShort((short) v);
            }
        }
        Path file = dir.resolve(c.name() + ".in");
        Files.write(file, b.array());
        return file;
    }

    private static short[] read(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        short[] out = new short[b.remaining() / 2];
        b.asShortBuffer().get(out);
        return out;
    }

    @Test
    void nanRulesAreThoseDocumented() {
        assertEquals((short) 0x7FC0, Conversion.f32ToBf16(Float.intBitsToFloat(0x7FC00000)));
        assertEquals((short) 0x7FC0, Conversion.f32ToBf16(Float.intBitsToFloat(0xFF800001)));
        assertEquals((short) 0x7E00, Conversion.f32ToF16(Float.intBitsToFloat(0x7FC00000)));
        assertEquals((short) 0xFE00, Conversion.f32ToF16(Float.intBitsToFloat(0xFFC00000)));
        // A signalling NaN whose payload is below f16's mantissa still comes out a (quiet) NaN, not
        // infinity.
        assertEquals((short) 0x7E00, Conversion.f32ToF16(Float.intBitsToFloat(0x7F800001)));
        // Rounding a large finite f32 up to bf16 gives infinity, not NaN.
        assertEquals((short) 0x7F80, Conversion.f32ToBf16(Float.intBitsToFloat(0x7F7FFFFF)));
    }

    @Test
    void javaReferenceMatchesNumpyAndC10ForEveryNonNaNInput() throws IOException {
        PythonOracle.assume("numpy");
        String code =
                """
                import sys
                import numpy as np
                kind, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
                def to_bf16(f32):
                    # c10::detail::round_to_nearest_even (c10/util/BFloat16.h)
                    bits = f32.astype(np.float32).view(np.uint32).astype(np.uint64)
                    out = ((bits + (((bits >> 16) & 1) + 0x7FFF)) >> 16).astype(np.uint16)
                    return np.where(np.isnan(f32), np.uint16(0x7FC0), out)
                with np.errstate(all='ignore'):
                    if kind == 'F32_TO_F16':
                        out = np.fromfile(src, '<f4').astype(np.float16).view(np.uint16)
                    elif kind == 'F32_TO_BF16':
                        out = to_bf16(np.fromfile(src, '<f4'))
                    elif kind == 'BF16_TO_F16':
                        f32 = (np.fromfile(src, '<u2').astype(np.uint32) << 16).view(np.float32)
                        out = f32.astype(np.float16).view(np.uint16)
                    else:
                        out = to_bf16(np.fromfile(src, '<f2').astype(np.float32))
                out.astype('<u2').tofile(dst)
                """;
        for (Conversion c : Conversion.values()) {
            int[] inputs = inputs(c);
            Path out = dir.resolve(c.name() + ".numpy");
            PythonOracle.run(code, List.of(c.name(), write(c, inputs).toString(), out.toString()))
                    .orThrow();
            short[] expected = read(out);
            assertEquals(inputs.length, expected.length);
            int compared = 0;
            for (int i = 0; i < inputs.length; i++) {
                if (isNaNInput(c, inputs[i])) {
                    continue;
                }
                compared++;
                short actual = java(c, inputs[i]);
                if (actual != expected[i]) {
                    throw new AssertionError(
                            String.format(
                                    Locale.ROOT,
                                    "%s(0x%x): numpy 0x%04x, Java 0x%04x",
                                    c,
                                    inputs[i],
                                    expected[i],
                                    actual));
                }
            }
            assertTrue(compared > inputs.length / 2, c + " compared only " + compared);
        }
    }

    @Test
    void cudaFunctionsMatchTheJavaReferenceForEveryInputNaNsIncluded()
            throws IOException, InterruptedException {
        Path binary = dir.resolve("convert_host");
        Process nvcc;
        try {
            nvcc =
                    new ProcessBuilder(
                                    "nvcc",
                                    "-O2",
                                    "-o",
                                    binary.toString(),
                                    Path.of("src/test/cuda/convert_host.cu")
                                            .toAbsolutePath()
                                            .toString())
                            .redirectErrorStream(true)
                            .start();
        } catch (IOException e) {
            Assumptions.abort(
                    "nvcc is not on PATH, so the CUDA C conversions cannot be compiled for the"
                            + " host");
            return;
        }
        String log = new String(nvcc.getInputStream().readAllBytes());
        assertTrue(nvcc.waitFor(5, TimeUnit.MINUTES), "nvcc timed out");
        assertEquals(0, nvcc.exitValue(), log);
        for (Conversion c : Conversion.values()) {
            int[] inputs = inputs(c);
            Path out = dir.resolve(c.name() + ".cuda");
            String kernel = c.kernel().replace("safeload_", "");
            Process run =
                    new ProcessBuilder(
                                    binary.toString(),
                                    kernel,
                                    write(c, inputs).toString(),
                                    out.toString())
                            .redirectErrorStream(true)
                            .start();
            String runLog = new String(run.getInputStream().readAllBytes());
            assertTrue(run.waitFor(2, TimeUnit.MINUTES));
            assertEquals(0, run.exitValue(), runLog);
            short[] cuda = read(out);
            assertEquals(inputs.length, cuda.length, c.name());
            for (int i = 0; i < inputs.length; i++) {
                short expected = java(c, inputs[i]);
                if (cuda[i] != expected) {
                    throw new AssertionError(
                            String.format(
                                    Locale.ROOT,
                                    "%s(0x%x): Java 0x%04x, CUDA C 0x%04x",
                                    c,
                                    inputs[i],
                                    expected,
                                    cuda[i]));
                }
            }
        }
    }
}
