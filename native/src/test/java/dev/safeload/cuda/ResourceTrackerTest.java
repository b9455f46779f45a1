package dev.safeload.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

import java.util.List;

/** The leak detector's mechanics, on plain objects standing in for native resources. */
@ResourceLock("safeload.cuda.leakDetection")
class ResourceTrackerTest {
    private String previous;

    @BeforeEach
    void enable() {
        previous = System.getProperty(ResourceTracker.PROPERTY);
        System.setProperty(ResourceTracker.PROPERTY, "true");
        ResourceTracker.clearReported();
    }

    @AfterEach
    void restore() {
        if (previous == null) {
            System.clearProperty(ResourceTracker.PROPERTY);
        } else {
            System.setProperty(ResourceTracker.PROPERTY, previous);
        }
        ResourceTracker.clearReported();
    }

    @Test
    void closedResourcesAreNeitherOpenNorReported() throws InterruptedException {
        Object owner = new Object();
        ResourceTracker.Registration registration =
                ResourceTracker.track(owner, "TestBuffer(closed)");
        assertTrue(ResourceTracker.open().contains("TestBuffer(closed)"));
        registration.release();
        assertFalse(ResourceTracker.open().contains("TestBuffer(closed)"));
        owner = null;
        collect(() -> false);
        assertEquals(List.of(), ResourceTracker.reported());
    }

    @Test
    void unreachableOpenResourceIsReportedWithItsAllocationSite() throws InterruptedException {
        allocateAndDrop();
        collect(() -> !ResourceTracker.reported().isEmpty());
        List<String> reported = ResourceTracker.reported();
        assertEquals(1, reported.size(), reported.toString());
        String report = reported.getFirst();
        assertTrue(report.startsWith("LEAK: TestBuffer(dropped) was never closed"), report);
        assertTrue(report.contains("allocateAndDrop"), "allocation site in " + report);
        assertFalse(ResourceTracker.open().contains("TestBuffer(dropped)"));
    }

    @Test
    void withoutThePropertyNothingIsCapturedButOpenResourcesAreCounted()
            throws InterruptedException {
        System.clearProperty(ResourceTracker.PROPERTY);
        assertFalse(ResourceTracker.enabled());
        ResourceTracker.Registration registration =
                ResourceTracker.track(new Object(), "TestBuffer(untracked)");
        assertTrue(ResourceTracker.open().contains("TestBuffer(untracked)"));
        collect(() -> false);
        assertEquals(List.of(), ResourceTracker.reported());
        registration.release();
        assertFalse(ResourceTracker.open().contains("TestBuffer(untracked)"));
    }

    private static void allocateAndDrop() {
        ResourceTracker.track(new Object(), "TestBuffer(dropped)");
    }

    private static void collect(java.util.function.BooleanSupplier done)
            throws InterruptedException {
        for (int i = 0; i < 25 && !done.getAsBoolean(); i++) {
            System.gc();
            Thread.sleep(20);
        }
    }
}
