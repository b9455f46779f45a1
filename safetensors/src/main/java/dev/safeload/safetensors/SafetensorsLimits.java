package dev.safeload.safetensors;

import java.util.Locale;

/**
 * Bounds a reader applies to untrusted files, in one immutable object (the shape of Jackson's
 * {@code StreamReadConstraints}). {@link #DEFAULT} matches the reference reader: a header of at
 * most 100,000,000 bytes ({@code MAX_HEADER_SIZE} in {@code safetensors/src/tensor.rs}) and JSON
 * nesting below serde_json's recursion limit of 128. The tensor-count limit defaults to what a
 * header of that size could hold at most, so by default it never refuses a file the reference
 * accepts; tighten it for services that open files from strangers.
 *
 * {@snippet :
 * SafetensorsLimits strict = SafetensorsLimits.builder().maxHeaderBytes(25_000_000).maxTensors(100_000).build();
 * }
 *
 * @param maxHeaderBytes the largest header length {@code N} accepted (inclusive)
 * @param maxTensors the largest number of tensors accepted in one header
 * @param maxJsonDepth JSON containers must nest strictly less deep than this (serde_json's
 *     recursion-limit semantics: 128 allows 127 levels)
 */
public record SafetensorsLimits(long maxHeaderBytes, int maxTensors, int maxJsonDepth) {
    /** The reference reader's header limit: 100,000,000 bytes (decimal). */
    public static final long REFERENCE_MAX_HEADER_BYTES = 100_000_000L;

    /** The reference reader's limits. */
    public static final SafetensorsLimits DEFAULT =
            new SafetensorsLimits(REFERENCE_MAX_HEADER_BYTES, 10_000_000, 128);

    public SafetensorsLimits {
        if (maxHeaderBytes < 2 || maxHeaderBytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    String.format(
                            Locale.ROOT,
                            "maxHeaderBytes must be in [2, %d], got %d",
                            Integer.MAX_VALUE - 8,
                            maxHeaderBytes));
        }
        if (maxTensors < 0) {
            throw new IllegalArgumentException("maxTensors must be >= 0, got " + maxTensors);
        }
        if (maxJsonDepth < 3) {
            // Top-level object plus tensor object plus its shape array.
            throw new IllegalArgumentException("maxJsonDepth must be >= 3, got " + maxJsonDepth);
        }
    }

    /** A builder starting from {@link #DEFAULT}. */
    public static Builder builder() {
        return new Builder(DEFAULT);
    }

    /** A builder starting from these limits. */
    public Builder rebuild() {
        return new Builder(this);
    }

    /** Mutable builder for {@link SafetensorsLimits}. */
    public static final class Builder {
        private long maxHeaderBytes;
        private int maxTensors;
        private int maxJsonDepth;

        private Builder(SafetensorsLimits from) {
            this.maxHeaderBytes = from.maxHeaderBytes;
            this.maxTensors = from.maxTensors;
            this.maxJsonDepth = from.maxJsonDepth;
        }

        public Builder maxHeaderBytes(long value) {
            this.maxHeaderBytes = value;
            return this;
        }

        public Builder maxTensors(int value) {
            this.maxTensors = value;
            return this;
        }

        public Builder maxJsonDepth(int value) {
            this.maxJsonDepth = value;
            return this;
        }

        public SafetensorsLimits build() {
            return new SafetensorsLimits(maxHeaderBytes, maxTensors, maxJsonDepth);
        }
    }
}
