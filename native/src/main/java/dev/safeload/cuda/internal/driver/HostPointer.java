package dev.safeload.cuda.internal.driver;

import jcuda.Pointer;

import java.lang.foreign.MemorySegment;

/**
 * A JCuda {@link Pointer} to native host memory given by address (a {@link MemorySegment}, or
 * memory from {@code cuMemHostAlloc}). JCuda's JNI treats a pointer without a Java buffer as a
 * native address, which asynchronous copies require (docs/lora.md §5.1).
 */
public final class HostPointer extends Pointer {
    /** An empty pointer for {@code cuMemHostAlloc} to fill in. */
    public HostPointer() {}

    private HostPointer(long address) {
        super(address);
    }

    /** A pointer to the first byte of a native segment. */
    public static HostPointer to(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException(
                    "a CUDA copy needs native memory, not a heap segment: " + segment);
        }
        return new HostPointer(segment.address());
    }

    /** The host address this pointer designates. */
    public long address() {
        return getNativePointer() + getByteOffset();
    }
}
