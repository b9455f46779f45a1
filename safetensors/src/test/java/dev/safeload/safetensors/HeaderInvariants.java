package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.testing.AllocationMeter;

import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What must hold for any input to the header reader: it returns a header whose tensors cover the
 * data section exactly and survive a write/read round trip, or it throws a {@link
 * SafetensorsException} of one of the reference's read kinds; nothing else. And whatever the length
 * fields claim, it allocates in proportion to the input, not to the claims.
 */
final class HeaderInvariants {
    static final Set<SafetensorsError> READ_KINDS =
            EnumSet.of(
                    SafetensorsError.HeaderTooSmall,
                    SafetensorsError.HeaderTooLarge,
                    SafetensorsError.InvalidHeaderLength,
                    SafetensorsError.InvalidHeader,
                    SafetensorsError.InvalidHeaderDeserialization,
                    SafetensorsError.InvalidOffset,
                    SafetensorsError.TensorInvalidInfo,
                    SafetensorsError.MetadataIncompleteBuffer,
                    SafetensorsError.ValidationOverflow,
                    SafetensorsError.MisalignedSlice);

    private HeaderInvariants() {}

    /** Checks one input; returns the error kind, or null when the file was valid. */
    static SafetensorsError check(byte[] file) {
        SafetensorsHeader header;
        try {
            header = readBounded(file);
        } catch (SafetensorsException e) {
            assertTrue(
                    READ_KINDS.contains(e.kind()),
                    () -> "unexpected kind " + e.kind() + ": " + e.getMessage());
            return e.kind();
        }
        long next = 0;
        for (TensorInfo t : header.tensors()) {
            assertEquals(next, t.begin());
            assertEquals(t.dtype().byteSize(t.elementCount()), t.byteLength());
            next = t.end();
        }
        assertEquals(file.length, header.dataStart() + next);
        roundTrip(file, header);
        return null;
    }

    /**
     * Reads {@code file}, asserting the thread allocated at most 64 bytes per input byte plus 8
     * MiB. The first read of a code path also loads (and under Jazzer instruments) classes, which
     * allocates; so an input over the bound is measured again before it counts as a failure.
     */
    private static SafetensorsHeader readBounded(byte[] file) {
        long bound = 64L * file.length + (8L << 20);
        long allocated = 0;
        for (int attempt = 0; attempt < 2; attempt++) {
            long before = AllocationMeter.allocatedBytes();
            try {
                SafetensorsHeader.read(MemorySegment.ofArray(file), SafetensorsLimits.DEFAULT);
            } catch (SafetensorsException e) {
                allocated = AllocationMeter.allocatedBytes() - before;
                if (allocated <= bound) {
                    throw e;
                }
                continue;
            }
            allocated = AllocationMeter.allocatedBytes() - before;
            if (allocated <= bound) {
                return SafetensorsHeader.read(
                        MemorySegment.ofArray(file), SafetensorsLimits.DEFAULT);
            }
        }
        long measured = allocated;
        throw new AssertionError(
                "allocated "
                        + measured
                        + " bytes reading a "
                        + file.length
                        + "-byte input, above "
                        + bound);
    }

    /**
     * Our writer re-encodes the same tensors; reading that back gives the same names, types,
     * shapes, bytes.
     */
    private static void roundTrip(byte[] file, SafetensorsHeader header) {
        if (header.tensors().isEmpty()
                && header.metadata() != null
                && header.metadata().isEmpty()) {
            return; // the one valid input the writer refuses to produce (the reference cannot read
            // its own output)
        }
        MemorySegment whole = MemorySegment.ofArray(file);
        SafetensorsWriter w = SafetensorsWriter.create().metadata(header.metadata());
        Map<String, TensorInfo> before = new HashMap<>();
        for (TensorInfo t : header.tensors()) {
            w.add(
                    t.name(),
                    t.dtype(),
                    t.shape(),
                    whole.asSlice(header.dataStart() + t.begin(), t.byteLength()));
            before.put(t.name(), t);
        }
        byte[] again = w.toByteArray();
        SafetensorsHeader reread = SafetensorsHeader.read(again);
        assertEquals(header.metadata(), reread.metadata());
        assertEquals(before.size(), reread.tensors().size());
        MemorySegment againSeg = MemorySegment.ofArray(again);
        for (TensorInfo t : reread.tensors()) {
            TensorInfo o = before.get(t.name());
            assertEquals(o.dtype(), t.dtype());
            assertEquals(
                    java.util.Arrays.toString(o.shape()), java.util.Arrays.toString(t.shape()));
            assertEquals(
                    -1,
                    MemorySegment.mismatch(
                            whole,
                            header.dataStart() + o.begin(),
                            header.dataStart() + o.end(),
                            againSeg,
                            reread.dataStart() + t.begin(),
                            reread.dataStart() + t.end()));
        }
    }
}
