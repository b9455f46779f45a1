package dev.safeload.cache.internal;

/**
 * A single {@code Range: bytes=...} request (RFC 9110 14.1.2): {@code N-M}, {@code N-} or the
 * suffix form {@code -K}. Several ranges, other units or malformed values are ignored, which the
 * RFC allows (the whole file is sent with 200).
 *
 * @param start first byte
 * @param endInclusive last byte
 */
public record ByteRange(long start, long endInclusive) {
    /**
     * Returned for a well-formed range that lies wholly past the end of the file (answered 416).
     */
    public static final ByteRange UNSATISFIABLE = new ByteRange(-1, -1);

    public long length() {
        return endInclusive - start + 1;
    }

    /**
     * The range {@code header} asks for in a file of {@code size} bytes, or {@code null} for the
     * whole file.
     */
    public static ByteRange parse(String header, long size) {
        if (header == null) {
            return null;
        }
        String h = header.strip();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
            return null;
        }
        String spec = h.substring(6).strip();
        if (spec.contains(",")) {
            return null;
        }
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            String first = spec.substring(0, dash).strip();
            String last = spec.substring(dash + 1).strip();
            if (first.isEmpty()) {
                long suffix = Long.parseLong(last);
                if (suffix < 0) {
                    return null;
                }
                if (suffix == 0 || size == 0) {
                    return UNSATISFIABLE;
                }
                return new ByteRange(Math.max(0, size - suffix), size - 1);
            }
            long start = Long.parseLong(first);
            long end = last.isEmpty() ? size - 1 : Long.parseLong(last);
            if (start < 0 || (end < start && !last.isEmpty())) {
                return null;
            }
            if (start >= size) {
                return UNSATISFIABLE;
            }
            return new ByteRange(start, Math.min(end, size - 1));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
