package dev.safeload.safetensors.internal;

/** Tensor names for diagnostics: names come from untrusted files, so escape and shorten them. */
public final class Names {
    private static final int MAX = 120;

    private Names() {}

    /** {@code `name`} with control characters escaped, cut after {@value #MAX} characters. */
    public static String quote(String name) {
        StringBuilder sb = new StringBuilder(Math.min(name.length(), MAX) + 8).append('`');
        int n = Math.min(name.length(), MAX);
        for (int i = 0; i < n; i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7F || Character.isSurrogate(c)) {
                sb.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (name.length() > MAX) {
            sb.append("...(").append(name.length()).append(" chars)");
        }
        return sb.append('`').toString();
    }
}
