package dev.safeload.safetensors;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A numpy basic-indexing expression: integers, {@code start:stop[:step]} ranges (any part may be
 * omitted; negative values count from the end; out-of-range bounds are clamped, as numpy does) and
 * at most one {@code ...}. Dimensions not indexed are taken whole.
 *
 * {@snippet :
 * SliceSpec s = SliceSpec.parse("0:2, :, -1");   // numpy t[0:2, :, -1]
 * SliceSpec r = SliceSpec.parse("::-1");         // reversed first dimension (a copy)
 * }
 */
public final class SliceSpec {
    /** One indexer. */
    public sealed interface Indexer permits Index, Range, Ellipsis {}

    /** An integer index: selects one position and drops the dimension. */
    public record Index(long index) implements Indexer {
        @Override
        public String toString() {
            return Long.toString(index);
        }
    }

    /** A range; {@code null} bounds mean numpy's defaults for the sign of {@code step}. */
    public record Range(Long start, Long stop, long step) implements Indexer {
        public Range {
            if (step == 0) {
                throw new SafetensorsException(
                        SafetensorsError.InvalidSlice, "slice step cannot be zero");
            }
        }

        @Override
        public String toString() {
            return (start == null ? "" : start)
                    + ":"
                    + (stop == null ? "" : stop)
                    + (step == 1 ? "" : ":" + step);
        }
    }

    /** {@code ...}: as many whole dimensions as needed. */
    public record Ellipsis() implements Indexer {
        @Override
        public String toString() {
            return "...";
        }
    }

    private final List<Indexer> indexers;

    private SliceSpec(List<Indexer> indexers) {
        this.indexers = List.copyOf(indexers);
        int ellipses = 0;
        for (Indexer i : this.indexers) {
            if (i instanceof Ellipsis) {
                ellipses++;
            }
        }
        if (ellipses > 1) {
            throw new SafetensorsException(
                    SafetensorsError.InvalidSlice,
                    "an index can only have a single ellipsis ('...')");
        }
    }

    /** A spec from indexers. */
    public static SliceSpec of(Indexer... indexers) {
        return new SliceSpec(List.of(indexers));
    }

    /** The whole tensor. */
    public static SliceSpec all() {
        return new SliceSpec(List.of());
    }

    public static Index index(long i) {
        return new Index(i);
    }

    public static Range range(Long start, Long stop) {
        return new Range(start, stop, 1);
    }

    public static Range range(Long start, Long stop, long step) {
        return new Range(start, stop, step);
    }

    public static Ellipsis ellipsis() {
        return new Ellipsis();
    }

    /** The indexers, in order. */
    public List<Indexer> indexers() {
        return indexers;
    }

    /**
     * Parses numpy syntax without the brackets: {@code "0:2,:,5"}, {@code "..., -1"}, {@code
     * "::2"}; spaces are ignored; the empty string is the whole tensor.
     *
     * @throws SafetensorsException {@link SafetensorsError#InvalidSlice} naming the bad part
     */
    public static SliceSpec parse(String spec) {
        Objects.requireNonNull(spec, "spec");
        String s = spec.strip();
        List<Indexer> out = new ArrayList<>();
        if (s.isEmpty()) {
            return new SliceSpec(out);
        }
        for (String part : s.split(",", -1)) {
            String p = part.strip();
            if (p.equals("...")) {
                out.add(new Ellipsis());
            } else if (p.indexOf(':') >= 0) {
                String[] b = p.split(":", -1);
                if (b.length > 3) {
                    throw bad(spec, p, "too many ':'");
                }
                Long start = number(spec, b[0]);
                Long stop = number(spec, b[1]);
                Long step = b.length == 3 ? number(spec, b[2]) : null;
                if (step != null && step == 0) {
                    throw bad(spec, p, "slice step cannot be zero");
                }
                out.add(new Range(start, stop, step == null ? 1 : step));
            } else {
                Long i = number(spec, p);
                if (i == null) {
                    throw bad(spec, p, "empty index");
                }
                out.add(new Index(i));
            }
        }
        return new SliceSpec(out);
    }

    private static Long number(String spec, String text) {
        String t = text.strip();
        if (t.isEmpty()) {
            return null;
        }
        try {
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            throw bad(spec, text, "not an integer");
        }
    }

    private static SafetensorsException bad(String spec, String part, String why) {
        return new SafetensorsException(
                SafetensorsError.InvalidSlice,
                String.format(
                        Locale.ROOT, "invalid slice `%s`: `%s`: %s", spec, part.strip(), why));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SliceSpec s && s.indexers.equals(indexers);
    }

    @Override
    public int hashCode() {
        return indexers.hashCode();
    }

    /** numpy syntax, parseable by {@link #parse}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Indexer i : indexers) {
            sb.append(sb.isEmpty() ? "" : ",").append(i);
        }
        return sb.toString();
    }
}
