package dev.safeload.cache.internal;

import java.util.regex.Pattern;

/**
 * A shell-style pattern with Python {@code fnmatch.fnmatchcase} semantics, which huggingface_hub
 * uses for patterns (reference/hub.md 3.3): {@code *} matches any run of characters including
 * {@code /}, {@code ?} one character, {@code [abc]} / {@code [!abc]} a class; case-sensitive.
 */
public record Glob(String pattern, Pattern regex) {
    public static Glob of(String pattern) {
        return new Glob(pattern, Pattern.compile(translate(pattern), Pattern.DOTALL));
    }

    public boolean matches(String text) {
        return regex.matcher(text).matches();
    }

    /** Whether the text has any glob metacharacter (otherwise it names one thing exactly). */
    public static boolean isPattern(String text) {
        return text.indexOf('*') >= 0 || text.indexOf('?') >= 0 || text.indexOf('[') >= 0;
    }

    private static String translate(String pattern) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        int n = pattern.length();
        while (i < n) {
            char c = pattern.charAt(i++);
            switch (c) {
                case '*' -> out.append(".*");
                case '?' -> out.append('.');
                case '[' -> {
                    int j = i;
                    if (j < n && pattern.charAt(j) == '!') {
                        j++;
                    }
                    if (j < n && pattern.charAt(j) == ']') {
                        j++;
                    }
                    while (j < n && pattern.charAt(j) != ']') {
                        j++;
                    }
                    if (j >= n) {
                        out.append("\\[");
                    } else {
                        String body = pattern.substring(i, j).replace("\\", "\\\\");
                        i = j + 1;
                        if (body.startsWith("!")) {
                            body = "^" + body.substring(1);
                        } else if (body.startsWith("^")) {
                            body = "\\" + body;
                        }
                        out.append('[').append(body).append(']');
                    }
                }
                default -> out.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return out.toString();
    }
}
