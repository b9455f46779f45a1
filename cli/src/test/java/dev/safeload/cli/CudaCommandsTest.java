package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cuda.Cuda;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The commands' CUDA paths: {@code demo --device cuda} and {@code lora merge --device cuda}. Tagged
 * {@code gpu}: skipped (visibly) without CUDA; {@code mvn verify} runs them again against the CUDA
 * emulator (native/src/test/emulator), and on a GPU machine they run on the device.
 */
@Tag("gpu")
@EnabledIf(value = "cuda", disabledReason = "no CUDA device (see Cuda.unavailableReason())")
class CudaCommandsTest {
    @TempDir Path dir;

    static boolean cuda() {
        return Cuda.isAvailable();
    }

    @Test
    void demoUploadsAndMergesOnTheDevice() {
        CliCapture.Outcome o =
                CliCapture.inProcess(
                        "demo", "--cache-dir", dir.resolve("hub").toString(), "--device", "cuda");
        assertEquals(0, o.status(), o.toString());
        assertTrue(
                o.stdout().matches("(?s).*gpu       : \\d+ tensors, [0-9.]+ MiB uploaded to .*"),
                o.stdout());
        assertTrue(o.stdout().contains(" on cuda"), o.stdout());
        assertTrue(o.stdout().contains("demo      : ok"), o.stdout());
    }

    @Test
    void loraMergeOnCudaMatchesFp64() throws IOException {
        LoraCommandTest fixture = new LoraCommandTest();
        fixture.dir = dir;
        fixture.files();
        fixture.mergeOn("cuda");
    }
}
