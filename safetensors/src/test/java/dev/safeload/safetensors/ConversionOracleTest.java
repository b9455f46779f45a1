package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.safeload.testing.PythonOracle;
import dev.safeload.testing.ReferenceWriter;
import dev.safeload.testing.Samples;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Every bit pattern of every small float dtype, and F32/F64 edge and random values, converted by
 * safeload and by numpy/ml_dtypes {@code astype}, then written by our writer and by the reference
 * writer: the two files must be identical byte for byte. That checks the conversions (rounding,
 * NaN, infinities, subnormals) and the writer at once.
 */
class ConversionOracleTest {
    @TempDir Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"F32", "F16", "BF16", "F64"})
    void everyPatternConvertsAsNumpyAndMlDtypes(String target) throws Exception {
        PythonOracle.assume("safetensors", "numpy", "ml_dtypes");
        Path in = dir.resolve("in.safetensors");
        Samples.everyFloatPattern().write(in);
        Path ours = dir.resolve("ours.safetensors");
        DType to = DType.fromFormatName(target);
        try (SafetensorsFile f = SafetensorsFile.open(in)) {
            SafetensorsWriter w = SafetensorsWriter.create().metadata(f.metadata());
            for (TensorInfo t : f.tensors()) {
                if (t.dtype().isFloatingPoint()) {
                    w.add(f.tensor(t.name()), to);
                } else {
                    w.add(f.tensor(t.name()));
                }
            }
            w.write(ours);
        }
        Path reference = dir.resolve("reference.safetensors");
        ReferenceWriter.rewrite(in, reference, target);
        byte[] a = Files.readAllBytes(ours);
        byte[] b = Files.readAllBytes(reference);
        if (!java.util.Arrays.equals(a, b)) {
            fail(firstDifference(ours, reference, to));
        }
        assertEquals(a.length, b.length);
    }

    /** Names the tensor and element where the files differ, with both bit patterns. */
    private static String firstDifference(Path ours, Path reference, DType to) {
        StringBuilder sb = new StringBuilder();
        try (SafetensorsFile a = SafetensorsFile.open(ours);
                SafetensorsFile b = SafetensorsFile.open(reference)) {
            if (!a.tensorNames().equals(b.tensorNames())) {
                return "tensor order differs: " + a.tensorNames() + " vs " + b.tensorNames();
            }
            for (TensorInfo t : a.tensors()) {
                TensorView x = a.tensor(t.name());
                TensorView y = b.tensor(t.name());
                int shown = 0;
                for (long i = 0; i < x.elementCount() && shown < 8; i++) {
                    if (x.getBitsFlat(i) != y.getBitsFlat(i)) {
                        sb.append(
                                String.format(
                                        java.util.Locale.ROOT,
                                        "%s[%d] -> %s: ours %x, reference %x%n",
                                        t.name(),
                                        i,
                                        to,
                                        x.getBitsFlat(i),
                                        y.getBitsFlat(i)));
                        shown++;
                    }
                }
            }
        }
        return sb.isEmpty() ? "headers differ" : sb.toString();
    }
}
