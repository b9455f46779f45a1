package dev.safeload.cache.internal;

import java.util.List;
import java.util.regex.Pattern;

/**
 * huggingface_hub's {@code filter_repo_objects} (docs/hub.md §3.3): backslashes read as {@code /},
 * a trailing {@code /} means the folder's content, matching is Python's {@code fnmatch.fnmatchcase}
 * (case-sensitive; {@code *} also spans {@code /}, so {@code *.json} matches at any depth and
 * {@code **} is just {@code *}). A path passes when it matches some include pattern (or there are
 * none) and no exclude pattern.
 */
public final class RepoGlob {
    private final List<Pattern> include;
    private final List<Pattern> exclude;

    public RepoGlob(List<String> include, List<String> exclude) {
        this.include = include.stream().map(RepoGlob::compile).toList();
        this.exclude = exclude.stream().map(RepoGlob::compile).toList();
    }

    public boolean accepts(String path) {
        String p = path.replace('\\', '/');
        boolean included =
                include.isEmpty() || include.stream().anyMatch(g -> g.matcher(p).matches());
        return included && exclude.stream().noneMatch(g -> g.matcher(p).matches());
    }

    static Pattern compile(String glob) {
        String g = glob.replace('\\', '/');
        if (g.endsWith("/")) {
            g = g + "*";
        }
        return Pattern.compile(translate(g), Pattern.DOTALL);
    }

    /**
     * Python's {@code fnmatch.translate}: {@code *}, {@code ?}, {@code [seq]}, {@code [!seq]}; an
     * unclosed {@code [} is literal.
     */
    static String translate(String glob) {
        StringBuilder re = new StringBuilder();
        int n = glob.length();
        int i = 0;
        while (i < n) {
            char c = glob.charAt(i++);
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                case '[' -> {
                    int j = i;
                    if (j < n && glob.charAt(j) == '!') {
                        j++;
                    }
                    if (j < n && glob.charAt(j) == ']') {
                        j++;
                    }
                    while (j < n && glob.charAt(j) != ']') {
                        j++;
                    }
                    if (j >= n) {
                        re.append("\\[");
                    } else {
                        re.append(characterClass(glob.substring(i, j)));
                        i = j + 1;
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return re.toString();
    }

    private static String characterClass(String body) {
        StringBuilder cls = new StringBuilder("[");
        int start = 0;
        if (body.startsWith("!")) {
            cls.append('^');
            start = 1;
        }
        for (int k = start; k < body.length(); k++) {
            char c = body.charAt(k);
            boolean range = c == '-' && k > start && k < body.length() - 1;
            if (range || Character.isLetterOrDigit(c)) {
                cls.append(c);
            } else {
                cls.append('\\').append(c);
            }
        }
        return cls.append(']').toString();
    }
}
