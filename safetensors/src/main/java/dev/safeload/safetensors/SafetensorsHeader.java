package dev.safeload.safetensors;

import dev.safeload.safetensors.internal.HeaderParser;

import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A validated safetensors header: the length field {@code N}, the optional {@code __metadata__}
 * map, and the tensors in data-offset order. Instances come from a reader that has checked every
 * rule of the reference reader ({@code read_metadata} in {@code safetensors/src/tensor.rs}).
 *
 * @param headerLength {@code N}, the header's length in bytes (whitespace padding included)
 * @param metadata the {@code __metadata__} map, or {@code null} when the header has none or it is
 *     JSON {@code null}
 * @param tensors the tensors sorted by {@code data_offsets}
 */
public record SafetensorsHeader(
        long headerLength, Map<String, String> metadata, List<TensorInfo> tensors) {
    public SafetensorsHeader {
        if (headerLength < 0) {
            throw new IllegalArgumentException("negative header length " + headerLength);
        }
        metadata =
                metadata == null
                        ? null
                        : Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        tensors = List.copyOf(Objects.requireNonNull(tensors, "tensors"));
    }

    /** The absolute file offset of the data section: {@code 8 + N}. */
    public long dataStart() {
        return 8 + headerLength;
    }

    /** The data section's length: the end offset of the last tensor (0 without tensors). */
    public long dataLength() {
        return tensors.isEmpty() ? 0 : tensors.getLast().end();
    }

    /**
     * Validates a whole file held in memory, as the reference's {@code SafeTensors::deserialize}
     * does.
     *
     * @throws SafetensorsException with the kind of the first rule broken, in the reference order
     */
    public static SafetensorsHeader read(MemorySegment file, SafetensorsLimits limits) {
        return HeaderParser.parse(file, limits);
    }

    /** {@link #read(MemorySegment, SafetensorsLimits)} with {@link SafetensorsLimits#DEFAULT}. */
    public static SafetensorsHeader read(byte[] file) {
        return HeaderParser.parse(MemorySegment.ofArray(file), SafetensorsLimits.DEFAULT);
    }
}
