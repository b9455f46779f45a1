package dev.safeload.safetensors.internal;

import static dev.safeload.safetensors.SafetensorsError.InvalidOffset;
import static dev.safeload.safetensors.SafetensorsError.MetadataIncompleteBuffer;
import static dev.safeload.safetensors.SafetensorsError.MisalignedSlice;
import static dev.safeload.safetensors.SafetensorsError.TensorInvalidInfo;
import static dev.safeload.safetensors.SafetensorsError.ValidationOverflow;

import dev.safeload.safetensors.SafetensorsException;
import dev.safeload.safetensors.SafetensorsHeader;
import dev.safeload.safetensors.TensorInfo;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The reference's {@code Metadata::validate} and the final length check of {@code read_metadata}:
 * after sorting by {@code (begin, end)}, the tensors must cover the data section back to back from
 * 0, each exactly {@code product(shape) * bits / 8} bytes long. Offsets and dims are u64 in the
 * format, so the arithmetic here is unsigned with overflow checks, as the reference's {@code
 * checked_mul}.
 */
final class HeaderValidator {
    private static final Comparator<HeaderParser.RawTensor> BY_OFFSETS =
            (a, b) -> {
                int c = Long.compareUnsigned(a.begin(), b.begin());
                return c != 0 ? c : Long.compareUnsigned(a.end(), b.end());
            };

    private HeaderValidator() {}

    static SafetensorsHeader validate(
            HeaderParser.RawHeader raw, long headerLength, long fileSize) {
        List<HeaderParser.RawTensor> sorted = new ArrayList<>(raw.tensors());
        sorted.sort(BY_OFFSETS); // stable, and linear when already in file order (the usual case)
        long start = 0;
        for (HeaderParser.RawTensor t : sorted) {
            if (t.begin() != start || Long.compareUnsigned(t.end(), t.begin()) < 0) {
                throw new SafetensorsException(
                        InvalidOffset,
                        String.format(
                                Locale.ROOT,
                                "invalid offset for tensor %s: data_offsets [%s, %s] but the data"
                                    + " must continue at %s (tensors cover the data section back to"
                                    + " back, without gaps or overlaps)",
                                Names.quote(t.name()),
                                Long.toUnsignedString(t.begin()),
                                Long.toUnsignedString(t.end()),
                                Long.toUnsignedString(start)));
            }
            long elements = 1;
            for (long d : t.shape()) {
                if (Math.unsignedMultiplyHigh(elements, d) != 0) {
                    throw overflow(t);
                }
                elements *= d;
            }
            int bits = t.dtype().bits();
            if (Math.unsignedMultiplyHigh(elements, bits) != 0) {
                throw overflow(t);
            }
            long totalBits = elements * bits;
            if ((totalBits & 7) != 0) {
                throw new SafetensorsException(
                        MisalignedSlice,
                        String.format(
                                Locale.ROOT,
                                "misaligned tensor %s: %s elements of %s (%d bits each) do not fill"
                                        + " whole bytes",
                                Names.quote(t.name()),
                                Long.toUnsignedString(elements),
                                t.dtype().formatName(),
                                bits));
            }
            long bytes = totalBits >>> 3;
            if (t.end() - t.begin() != bytes) {
                throw new SafetensorsException(
                        TensorInvalidInfo,
                        String.format(
                                Locale.ROOT,
                                "invalid shape, data type, or offset for tensor %s: shape %s of %s"
                                        + " needs %s bytes but data_offsets [%s, %s] span %s",
                                Names.quote(t.name()),
                                shapeText(t.shape()),
                                t.dtype().formatName(),
                                Long.toUnsignedString(bytes),
                                Long.toUnsignedString(t.begin()),
                                Long.toUnsignedString(t.end()),
                                Long.toUnsignedString(t.end() - t.begin())));
            }
            start = t.end();
        }
        // 8 + N + data length must be exactly the file size, with no trailing bytes (polyglot
        // files) and none missing. Unsigned: a wrapped sum cannot equal a real file size.
        long expected = 8 + headerLength + start;
        if (Long.compareUnsigned(start, Long.MAX_VALUE) > 0
                || expected < 0
                || expected != fileSize) {
            throw new SafetensorsException(
                    MetadataIncompleteBuffer,
                    String.format(
                            Locale.ROOT,
                            "incomplete metadata, file not fully covered: the header describes %s"
                                    + " bytes of tensor data but the file has %d bytes after the"
                                    + " header",
                            Long.toUnsignedString(start),
                            fileSize - 8 - headerLength));
        }
        List<TensorInfo> tensors = new ArrayList<>(sorted.size());
        for (HeaderParser.RawTensor t : sorted) {
            for (long d : t.shape()) {
                if (d < 0) {
                    // Valid for the reference in a zero-size tensor ([0, 2^64-1]), but a Java
                    // long cannot hold the dimension (documented deviation).
                    throw new SafetensorsException(
                            ValidationOverflow,
                            String.format(
                                    Locale.ROOT,
                                    "tensor %s has dimension %s, above 2^63-1, which safeload"
                                            + " cannot represent",
                                    Names.quote(t.name()),
                                    Long.toUnsignedString(d)));
                }
            }
            tensors.add(new TensorInfo(t.name(), t.dtype(), t.shape(), t.begin(), t.end()));
        }
        return new SafetensorsHeader(headerLength, raw.metadata(), tensors);
    }

    private static SafetensorsException overflow(HeaderParser.RawTensor t) {
        return new SafetensorsException(
                ValidationOverflow,
                String.format(
                        Locale.ROOT,
                        "overflow computing buffer size from shape and/or element type: tensor %s,"
                                + " shape %s of %s",
                        Names.quote(t.name()),
                        shapeText(t.shape()),
                        t.dtype().formatName()));
    }

    static String shapeText(long[] shape) {
        if (shape.length > 16) {
            return "[" + shape.length + " dims]";
        }
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(Long.toUnsignedString(shape[i]));
        }
        return sb.append(']').toString();
    }
}
