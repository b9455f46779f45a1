package dev.safeload.testing;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Bytes allocated by the current thread ({@code com.sun.management.ThreadMXBean}). Looked up
 * reflectively because test classes compile inside the safetensors module, which does not read
 * {@code java.management}; tests run on the class path, where the lookup works.
 */
public final class AllocationMeter {
    private static final Object BEAN;
    private static final MethodHandle ALLOCATED;

    static {
        try {
            Class<?> factory = Class.forName("java.lang.management.ManagementFactory");
            BEAN = factory.getMethod("getThreadMXBean").invoke(null);
            Class<?> api = Class.forName("com.sun.management.ThreadMXBean");
            ALLOCATED =
                    MethodHandles.publicLookup()
                            .findVirtual(
                                    api,
                                    "getCurrentThreadAllocatedBytes",
                                    MethodType.methodType(long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private AllocationMeter() {}

    /** Bytes allocated so far by the current thread. */
    public static long allocatedBytes() {
        try {
            return (long) ALLOCATED.invoke(BEAN);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
