package dev.safeload.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * Sizes and ages printed the way huggingface_hub's cache commands print them (docs/hub.md §5.4).
 */
final class HumanFormat {
    private HumanFormat() {}

    /** Decimal units with no "B": 1197 is {@code 1.2K}, 0 is {@code 0.0}. */
    static String size(long bytes) {
        double n = bytes;
        for (String unit : new String[] {"", "K", "M", "G", "T", "P", "E", "Z"}) {
            if (Math.abs(n) < 1000.0) {
                return String.format(Locale.ROOT, "%3.1f%s", n, unit);
            }
            n /= 1000.0;
        }
        return String.format(Locale.ROOT, "%.1fY", n);
    }

    private record Unit(String name, long seconds, long cap) {}

    private static final Unit[] UNITS = {
        new Unit("second", 1, 60), new Unit("minute", 60, 60), new Unit("hour", 3600, 24),
        new Unit("day", 86400, 6), new Unit("week", 604800, 6), new Unit("month", 2592000, 11),
        new Unit("year", 31536000, Long.MAX_VALUE),
    };

    /**
     * {@code a few seconds ago} under 20 s, else the first unit whose rounded count fits its cap.
     */
    static String age(Instant then, Instant now) {
        double seconds = Duration.between(then, now).toMillis() / 1000.0;
        if (seconds < 20) {
            return "a few seconds ago";
        }
        for (Unit unit : UNITS) {
            long count = Math.round(seconds / unit.seconds());
            if (count <= unit.cap()) {
                return count + " " + unit.name() + (count > 1 ? "s" : "") + " ago";
            }
        }
        throw new AssertionError("the last unit has no cap");
    }
}
