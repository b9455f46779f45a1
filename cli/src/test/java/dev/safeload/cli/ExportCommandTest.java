package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsWriter;
import dev.safeload.testing.PythonOracle;
import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

/**
 * {@code safeload export}: raw bytes, numpy slicing checked against numpy, conversion, failures.
 */
class ExportCommandTest {
    @TempDir Path dir;

    /** F32 [4,5,6] holding 0..119. */
    private Path cube() {
        float[] v = new float[120];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return RawFiles.write(
                dir,
                "cube.safetensors",
                SafetensorsWriter.create()
                        .add("cube", DType.F32, new long[] {4, 5, 6}, RawFiles.f32(v))
                        .toByteArray());
    }

    @Test
    void wholeTensorToStdout() {
        InspectCommandTest.Run r = InspectCommandTest.run("export", cube().toString(), "cube");
        assertEquals(0, r.exit(), r.err());
        assertEquals(480, r.outBytes().length);
        assertEquals(
                119f, ByteBuffer.wrap(r.outBytes()).order(ByteOrder.LITTLE_ENDIAN).getFloat(476));
    }

    @Test
    void slicesMatchNumpy() {
        PythonOracle.assume("numpy");
        Path file = cube();
        List<String> specs =
                List.of(
                        "0:2,:,5",
                        "-1",
                        "1:3",
                        "::2,1,::-2",
                        "...,-1",
                        ":,-2:,1:5:3",
                        "10:",
                        "-100:2",
                        "3,4,5",
                        "::-1");
        for (String spec : specs) {
            InspectCommandTest.Run r =
                    InspectCommandTest.run("export", file.toString(), "cube", "--slice", spec);
            assertEquals(0, r.exit(), spec + ": " + r.err());
            String expected =
                    PythonOracle.run(
                                    "import sys, numpy as np\n"
                                            + "a = np.arange(120, dtype='<f4').reshape(4,5,6)\n"
                                            + "sys.stdout.write(np.ascontiguousarray(eval('a[' +"
                                            + " sys.argv[1] + ']')).tobytes().hex())",
                                    List.of(spec))
                            .orThrow()
                            .stdout();
            assertEquals(expected, HexFormat.of().formatHex(r.outBytes()), spec);
        }
    }

    @Test
    void convertsAndWritesAFile() throws Exception {
        Path out = dir.resolve("out.bin");
        InspectCommandTest.Run r =
                InspectCommandTest.run(
                        "export",
                        cube().toString(),
                        "cube",
                        "--slice",
                        "0,0,0:3",
                        "--to",
                        "bf16",
                        "-o",
                        out.toString());
        assertEquals(0, r.exit(), r.err());
        // 0, 1, 2 in BF16: 0x0000, 0x3F80, 0x4000, little-endian.
        assertArrayEquals(HexFormat.of().parseHex("0000803f0040"), Files.readAllBytes(out));
        assertEquals(0, r.outBytes().length);
    }

    @Test
    void badSliceAndUnknownTensorFailWithKinds() {
        Path file = cube();
        InspectCommandTest.Run slice =
                InspectCommandTest.run("export", file.toString(), "cube", "--slice", "0,0,0,0");
        assertEquals(1, slice.exit());
        assertTrue(slice.err().startsWith("InvalidSlice: "), slice.err());
        InspectCommandTest.Run index =
                InspectCommandTest.run("export", file.toString(), "cube", "--slice", "4");
        assertTrue(
                index.err()
                        .startsWith(
                                "InvalidSlice: index 4 is out of bounds for axis 0 with size 4"),
                index.err());
        InspectCommandTest.Run missing = InspectCommandTest.run("export", file.toString(), "nope");
        assertEquals(1, missing.exit());
        assertTrue(missing.err().startsWith("TensorNotFound: "), missing.err());
        InspectCommandTest.Run dtype =
                InspectCommandTest.run("export", file.toString(), "cube", "--to", "F128");
        assertEquals(2, dtype.exit(), dtype.err());
        InspectCommandTest.Run target =
                InspectCommandTest.run("export", file.toString(), "cube", "--to", "I32");
        assertEquals(1, target.exit());
        assertTrue(target.err().startsWith("UnsupportedDtype: "), target.err());
    }
}
