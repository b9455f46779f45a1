package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsWriter;
import dev.safeload.testing.PythonOracle;
import dev.safeload.testing.RawFiles;
import dev.safeload.testing.ReferenceWriter;
import dev.safeload.testing.Samples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code safeload convert}: output byte-identical to the reference writer's, with and without
 * casting.
 */
class ConvertCommandTest {
    @TempDir Path dir;

    @Test
    void outputEqualsTheReferenceWriterByteForByte() throws Exception {
        PythonOracle.assume("safetensors", "numpy", "ml_dtypes");
        // A file laid out the way other writers do it (unsorted, unaligned): convert must re-lay it
        // out.
        String json =
                "{\"z\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[3,11]},"
                        + "\"__metadata__\":{\"format\":\"pt\"}}";
        Path in =
                RawFiles.write(
                        dir,
                        "in.safetensors",
                        RawFiles.of(
                                json,
                                RawFiles.concat(new byte[] {1, 2, 3}, RawFiles.f32(0.5f, -1))));
        for (String target : new String[] {null, "F16", "BF16", "F32"}) {
            Path ours = dir.resolve("ours-" + target + ".safetensors");
            Path reference = dir.resolve("ref-" + target + ".safetensors");
            InspectCommandTest.Run r =
                    target == null
                            ? InspectCommandTest.run("convert", in.toString(), ours.toString())
                            : InspectCommandTest.run(
                                    "convert", in.toString(), ours.toString(), "--to", target);
            assertEquals(0, r.exit(), r.err());
            ReferenceWriter.rewrite(in, reference, target);
            assertArrayEquals(
                    Files.readAllBytes(reference), Files.readAllBytes(ours), "--to " + target);
        }
    }

    @Test
    void everyDtypeAndPatternMatchesTheReferenceWhenCastToBf16() throws Exception {
        PythonOracle.assume("safetensors", "numpy", "ml_dtypes");
        Path in = dir.resolve("all.safetensors");
        Samples.everyFloatPattern().write(in);
        Path ours = dir.resolve("ours.safetensors");
        assertEquals(
                0,
                InspectCommandTest.run("convert", in.toString(), ours.toString(), "--to", "BF16")
                        .exit());
        Path reference = dir.resolve("ref.safetensors");
        ReferenceWriter.rewrite(in, reference, "BF16");
        assertArrayEquals(Files.readAllBytes(reference), Files.readAllBytes(ours));
    }

    @Test
    void convertsInPlace() throws Exception {
        Path p =
                RawFiles.write(
                        dir,
                        "m.safetensors",
                        SafetensorsWriter.create()
                                .add("w", DType.F32, new long[] {2}, RawFiles.f32(1.5f, 2))
                                .toByteArray());
        InspectCommandTest.Run r =
                InspectCommandTest.run("convert", p.toString(), p.toString(), "--to", "F16");
        assertEquals(0, r.exit(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(DType.F16, f.info("w").dtype());
            assertEquals(1.5f, f.tensor("w").getFloat(0));
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void invalidInputIsReportedAndNothingWritten() {
        Path in =
                RawFiles.write(
                        dir,
                        "bad.safetensors",
                        RawFiles.of(
                                "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                                new byte[4]));
        Path out = dir.resolve("out.safetensors");
        InspectCommandTest.Run r = InspectCommandTest.run("convert", in.toString(), out.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("TensorInvalidInfo: "), r.err());
        assertTrue(Files.notExists(out));
    }
}
