package dev.safeload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/**
 * Teardown that runs every step: the first failure is thrown, later ones ride along as suppressed.
 */
class CleanupTest {

    @Test
    void everyStepRunsAndTheFirstFailureCarriesTheLaterOnes() {
        List<String> ran = new ArrayList<>();
        IllegalStateException first = new IllegalStateException("first");
        IllegalArgumentException second = new IllegalArgumentException("second");
        AutoCloseable checked =
                () -> {
                    ran.add("checked");
                    throw new java.io.IOException("disk");
                };
        Cleanup cleanup =
                new Cleanup()
                        .run(() -> ran.add("a"))
                        .run(
                                () -> {
                                    ran.add("b");
                                    throw first;
                                })
                        .close(() -> ran.add("c"), null, checked)
                        .run(
                                () -> {
                                    ran.add("d");
                                    throw second;
                                });
        RuntimeException thrown = assertThrows(RuntimeException.class, cleanup::rethrow);
        assertSame(first, thrown);
        assertEquals(List.of("a", "b", "c", "checked", "d"), ran);
        Throwable[] suppressed = thrown.getSuppressed();
        assertEquals(2, suppressed.length);
        assertEquals("disk", suppressed[0].getCause().getMessage());
        assertSame(second, suppressed[1]);
    }

    @Test
    void aCleanupAfterAFailureRethrowsIt() {
        IllegalStateException original = new IllegalStateException("allocation failed");
        Cleanup cleanup =
                new Cleanup(original)
                        .run(
                                () -> {
                                    throw original; // the same exception again is not suppressed in
                                    // itself
                                });
        assertSame(original, assertThrows(IllegalStateException.class, cleanup::rethrow));
        assertArrayEquals(new Throwable[0], original.getSuppressed());
        new Cleanup().run(() -> {}).rethrow(); // nothing failed: returns
    }
}
