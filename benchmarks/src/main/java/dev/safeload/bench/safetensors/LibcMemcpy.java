package dev.safeload.bench.safetensors;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The C library's {@code memcpy}, called through the foreign linker: the copy a native reader (the
 * Rust reference's {@code copy_from_slice}) performs, and so the ceiling a Java reader is held to.
 * {@link MemorySegment#copy} is measured beside it because the JDK's own copy loop is not the C
 * library's (no non-temporal stores for large blocks), and the gap between the two is part of what
 * the benchmarks report.
 */
final class LibcMemcpy {
    // critical(false): no thread-state transition; memcpy neither blocks nor calls back into Java.
    private static final MethodHandle MEMCPY =
            Linker.nativeLinker()
                    .downcallHandle(
                            Linker.nativeLinker().defaultLookup().find("memcpy").orElseThrow(),
                            FunctionDescriptor.of(
                                    ValueLayout.ADDRESS,
                                    ValueLayout.ADDRESS,
                                    ValueLayout.ADDRESS,
                                    ValueLayout.JAVA_LONG),
                            Linker.Option.critical(false));

    private LibcMemcpy() {}

    /**
     * Copies {@code bytes} bytes from {@code src} at {@code srcOffset} to the start of {@code dst}.
     */
    static void copy(MemorySegment src, long srcOffset, MemorySegment dst, long bytes) {
        // asSlice checks bounds and liveness, so the raw call below cannot run off either segment.
        MemorySegment from = src.asSlice(srcOffset, bytes);
        MemorySegment to = dst.asSlice(0, bytes);
        try {
            MemorySegment unused = (MemorySegment) MEMCPY.invokeExact(to, from, bytes);
        } catch (Throwable t) {
            throw new AssertionError("memcpy downcall failed", t);
        }
    }
}
