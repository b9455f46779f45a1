package dev.safeload.cuda.internal.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PTX shipped in the jar: a header CUDA 12 and 13 drivers both load (docs/lora.md §6: ISA 8.0
 * needs a 12.0 driver; nvcc 13 writes 9.0, which 12.x drivers refuse), an entry for every
 * conversion, and, where ptxas is installed, PTX that assembles for Turing, Ampere and Hopper.
 */
class PtxResourceTest {
    @TempDir Path dir;

    @Test
    void headerIsLowEnoughForCuda12And13Drivers() {
        String ptx = ConversionKernels.ptx();
        Matcher version = Pattern.compile("(?m)^\\.version (\\d+)\\.(\\d+)$").matcher(ptx);
        assertTrue(version.find(), "no .version line");
        int major = Integer.parseInt(version.group(1));
        int minor = Integer.parseInt(version.group(2));
        assertTrue(
                major < 8 || (major == 8 && minor == 0),
                ".version " + major + "." + minor + " is above 8.0");
        Matcher target = Pattern.compile("(?m)^\\.target sm_(\\d+)$").matcher(ptx);
        assertTrue(target.find(), "no .target line");
        assertTrue(Integer.parseInt(target.group(1)) <= 75, "target sm_" + target.group(1));
        assertTrue(ptx.contains(".address_size 64"));
    }

    @Test
    void everyConversionHasItsEntry() {
        String ptx = ConversionKernels.ptx();
        for (Conversion c : Conversion.values()) {
            assertTrue(
                    ptx.contains(".visible .entry " + c.kernel() + "("), "no entry " + c.kernel());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sm_75", "sm_80", "sm_90"})
    void assemblesWithPtxas(String arch) throws IOException, InterruptedException {
        Path ptx = dir.resolve("convert.ptx");
        Files.writeString(ptx, ConversionKernels.ptx());
        Process ptxas;
        try {
            ptxas =
                    new ProcessBuilder(
                                    "ptxas",
                                    "-arch=" + arch,
                                    "-o",
                                    dir.resolve(arch + ".cubin").toString(),
                                    ptx.toString())
                            .redirectErrorStream(true)
                            .start();
        } catch (IOException e) {
            Assumptions.abort(
                    "ptxas is not on PATH (install the CUDA toolkit to assemble the PTX for "
                            + arch
                            + ")");
            return;
        }
        String log = new String(ptxas.getInputStream().readAllBytes());
        assertTrue(ptxas.waitFor(2, TimeUnit.MINUTES), "ptxas timed out");
        assertEquals(0, ptxas.exitValue(), "ptxas -arch=" + arch + ": " + log);
        assertTrue(Files.size(dir.resolve(arch + ".cubin")) > 0);
    }
}
