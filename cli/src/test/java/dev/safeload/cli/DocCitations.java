package dev.safeload.cli;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the places where the repository's sources cite its own documentation ({@code docs/hub.md
 * §2.4}, {@code docs/BUILD.md "Which JDK"}) and checks that each cited file and section exists.
 * Comments are where the project says why code does what it does; a citation that leads nowhere (a
 * renamed heading, a section that never got written, the research notes outside the repository) is
 * a broken promise to the reader, so {@code DocCitationsTest} fails the build on one.
 *
 * <p>A citation is a docs/ file followed by a list of references: sections ({@code docs/hub.md §2},
 * {@code docs/hub.md §2.4}), ranges ({@code docs/hub.md §5.1-5.2}) or quoted headings ({@code
 * docs/BUILD.md "Which JDK"}), separated by commas or {@code and}, and allowed to continue on the
 * next comment line ({@code *}, {@code //}, {@code #} or {@code --} prefixes). A section number
 * resolves when the file has a heading that starts with it ({@code ## 2. Download protocol}, {@code
 * ### 2.4 Redirects}); a quoted heading when the file has a heading with exactly that text, with or
 * without its number. Inside docs/, a sibling named without the folder and a section sign with no
 * file (that file itself) are citations too.
 *
 * <p>Also refused: citations of the shared research notes, which a clone does not contain; the
 * names of those notes without the docs/ folder; and, outside docs/, a section sign that names no
 * file.
 */
final class DocCitations {
    /** Files whose comments are checked, by extension. */
    private static final Set<String> SOURCE_EXTENSIONS =
            Set.of(
                    "java", "sh", "py", "cu", "cuh", "c", "h", "cc", "cpp", "js", "mjs", "ts",
                    "toml");

    /** This checker's tests: their inputs are broken citations on purpose. */
    private static final Set<String> UNCHECKED =
            Set.of("cli/src/test/java/dev/safeload/cli/DocCitationsTest.java");

    /** Folders never scanned: build output, VCS data, local caches. */
    private static final Set<String> SKIPPED_FOLDERS =
            Set.of("target", "node_modules", "__pycache__", "bench-out", "shared");

    /** The research notes kept outside the repository; docs/ holds our own version of each. */
    private static final Pattern NOTES_NAME =
            Pattern.compile("(?<![\\w./-])(hub|safetensors|lora|java-style)\\.md\\b");

    /** Whitespace that may hold a line break and the next line's comment marker. */
    private static final String GAP =
            "(?:[ \\t]*\\r?\\n[ \\t]*(?:\\*(?!/)|//+|#+|--)?[ \\t]*|[ \\t]+)";

    private static final String SECTION =
            "§\\d+(?:\\.\\d+)*(?:[ \\t]*[-–][ \\t]*\\d+(?:\\.\\d+)*)?";
    private static final String HEADING = "\"[^\"\\n]{1,100}\"";
    private static final String REF = "(?:" + SECTION + "|" + HEADING + ")";
    private static final String SEP =
            "(?:" + GAP + "?,(?:" + GAP + "and)?" + GAP + "|" + GAP + "and" + GAP + ")";
    private static final String REFS = "(?:,?" + GAP + "(" + REF + "(?:" + SEP + REF + ")*))?";

    private static final Pattern CITATION =
            Pattern.compile("(?<![\\w./-])docs/([A-Za-z][\\w-]*)\\.md" + REFS);

    /** The shared research notes, with the sections cited from them. */
    private static final Pattern SHARED_NOTES =
            Pattern.compile("(?<![\\w-])reference/([\\w.-]+)\\.md" + REFS);

    /** Inside docs/, sibling files are cited without the folder. */
    private static final Pattern SIBLING_CITATION =
            Pattern.compile("(?<![\\w./-])(?:docs/)?([A-Za-z][\\w-]*)\\.md" + REFS);

    private static final Pattern ONE_REF = Pattern.compile(REF);
    private static final Pattern SECTION_SIGN = Pattern.compile("§\\s*\\d");
    private static final Pattern RFC_BEFORE = Pattern.compile("(?i)\\bRFC\\s*\\d+\\s*$");
    private static final Pattern MARKDOWN_HEADING = Pattern.compile("^#{1,6}[ \\t]+(.*?)[ \\t#]*$");
    private static final Pattern NUMBERED = Pattern.compile("^(\\d+(?:\\.\\d+)*)\\.?[ \\t]+(.*)$");

    private DocCitations() {}

    /** One citation that does not resolve, at {@code file:line}. */
    record Problem(String file, int line, String citation, String reason) {
        @Override
        public String toString() {
            return file + ":" + line + ": " + citation + ": " + reason;
        }
    }

    /** What the checks found: the problems and how many citations resolved. */
    record Report(List<Problem> problems, int resolved, int filesScanned) {}

    /** The sections and headings one docs/ file has. */
    record Doc(Set<String> sections, Set<String> headings) {
        /** The headings of a Markdown text; lines inside fenced code blocks are not headings. */
        static Doc parse(String markdown) {
            Set<String> sections = new LinkedHashSet<>();
            Set<String> headings = new LinkedHashSet<>();
            boolean fenced = false;
            for (String line : markdown.split("\\R")) {
                if (line.stripLeading().startsWith("```")) {
                    fenced = !fenced;
                    continue;
                }
                Matcher heading = MARKDOWN_HEADING.matcher(line);
                if (fenced || !heading.matches()) {
                    continue;
                }
                String text = heading.group(1);
                headings.add(text);
                Matcher numbered = NUMBERED.matcher(text);
                if (numbered.matches()) {
                    sections.add(numbered.group(1));
                    headings.add(numbered.group(2));
                }
            }
            return new Doc(Set.copyOf(sections), Set.copyOf(headings));
        }
    }

    /** The repository root: the first folder at or above {@code start} with docs/ and a pom.xml. */
    static Path repositoryRoot(Path start) {
        for (Path dir = start.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("docs"))
                    && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no folder with docs/ and pom.xml at or above " + start);
    }

    /** Checks every scanned file below {@code root} against the files in {@code root/docs}. */
    static Report check(Path root) throws IOException {
        Map<String, Optional<Doc>> docs = new HashMap<>();
        Function<String, Optional<Doc>> lookup =
                name ->
                        docs.computeIfAbsent(
                                name,
                                n -> {
                                    Path file = root.resolve("docs").resolve(n + ".md");
                                    if (!Files.isRegularFile(file)) {
                                        return Optional.empty();
                                    }
                                    try {
                                        return Optional.of(Doc.parse(Files.readString(file)));
                                    } catch (IOException e) {
                                        throw new IllegalStateException("cannot read " + file, e);
                                    }
                                });
        List<Problem> problems = new ArrayList<>();
        int[] resolved = {0};
        List<Path> files = scannedFiles(root);
        for (Path file : files) {
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (MalformedInputException e) {
                continue; // not a text file
            }
            String relative = root.relativize(file).toString().replace('\\', '/');
            if (UNCHECKED.contains(relative)) {
                continue;
            }
            String docName = docsFileName(relative);
            CheckResult result = checkText(relative, text, lookup, docName);
            problems.addAll(result.problems());
            resolved[0] += result.resolved();
        }
        return new Report(List.copyOf(problems), resolved[0], files.size());
    }

    /** The result of checking one text. */
    record CheckResult(List<Problem> problems, int resolved) {}

    /**
     * Checks one file's text. {@code ownDoc} is the docs/ file name (without {@code .md}) when the
     * text is itself a docs/ file, else {@code null}.
     */
    static CheckResult checkText(
            String file, String text, Function<String, Optional<Doc>> docs, String ownDoc) {
        List<Problem> problems = new ArrayList<>();
        int resolved = 0;
        boolean[] covered = new boolean[text.length()];
        Matcher citation = (ownDoc == null ? CITATION : SIBLING_CITATION).matcher(text);
        while (citation.find()) {
            String name = citation.group(1);
            String quoted = citation.group(0).replaceAll("\\s+", " ").replaceAll(" [*#/-]+ ", " ");
            int line = lineOf(text, citation.start());
            for (int i = citation.start(); i < citation.end(); i++) {
                covered[i] = true;
            }
            Optional<Doc> doc = docs.apply(name);
            if (doc.isEmpty()) {
                boolean bare = !citation.group(0).startsWith("docs/");
                if (bare && !isNotesName(name)) {
                    continue; // inside docs/, a mention of some other Markdown file (README.md)
                }
                problems.add(
                        new Problem(file, line, quoted, "docs/" + name + ".md does not exist"));
                continue;
            }
            List<String> missing = missingRefs(doc.get(), citation.group(2));
            if (missing.isEmpty()) {
                resolved++;
            } else {
                for (String ref : missing) {
                    problems.add(
                            new Problem(
                                    file,
                                    line,
                                    quoted,
                                    "docs/" + name + ".md has no " + describe(ref)));
                }
            }
        }
        Matcher shared = SHARED_NOTES.matcher(text);
        while (shared.find()) {
            for (int i = shared.start(); i < shared.end(); i++) {
                covered[i] = true;
            }
            problems.add(
                    new Problem(
                            file,
                            lineOf(text, shared.start()),
                            shared.group().replaceAll("\\s+", " "),
                            "the shared research notes are not in the repository; cite docs/"
                                    + shared.group(1)
                                    + ".md instead"));
        }
        Matcher sign = SECTION_SIGN.matcher(text);
        while (sign.find()) {
            if (covered[sign.start()]) {
                continue;
            }
            int lineStart = text.lastIndexOf('\n', sign.start()) + 1;
            if (RFC_BEFORE.matcher(text.substring(lineStart, sign.start())).find()) {
                continue;
            }
            Matcher ref = ONE_REF.matcher(text).region(sign.start(), text.length());
            String cited = ref.lookingAt() ? ref.group() : sign.group();
            int line = lineOf(text, sign.start());
            if (ownDoc == null) {
                problems.add(
                        new Problem(
                                file,
                                line,
                                cited,
                                "a section with no file; name the docs/ file it is in"));
            } else {
                List<String> missing = missingRefs(docs.apply(ownDoc).orElseThrow(), cited);
                if (missing.isEmpty()) {
                    resolved++;
                } else {
                    problems.add(
                            new Problem(
                                    file,
                                    line,
                                    cited,
                                    "docs/" + ownDoc + ".md has no " + describe(missing.get(0))));
                }
            }
        }
        if (ownDoc == null) {
            Matcher notes = NOTES_NAME.matcher(text);
            while (notes.find()) {
                problems.add(
                        new Problem(
                                file,
                                lineOf(text, notes.start()),
                                notes.group(),
                                "names the research notes without docs/; cite docs/"
                                        + notes.group(1)
                                        + ".md §N instead"));
            }
        }
        return new CheckResult(problems, resolved);
    }

    private static boolean isNotesName(String name) {
        return NOTES_NAME.matcher(name + ".md").matches();
    }

    /** The references of {@code refs} (a citation's list, or null) that {@code doc} lacks. */
    private static List<String> missingRefs(Doc doc, String refs) {
        List<String> missing = new ArrayList<>();
        if (refs == null) {
            return missing;
        }
        Matcher ref = ONE_REF.matcher(refs);
        while (ref.find()) {
            String one = ref.group();
            if (one.startsWith("\"")) {
                if (!doc.headings().contains(one.substring(1, one.length() - 1))) {
                    missing.add(one);
                }
                continue;
            }
            String[] range = one.substring(1).split("[ \\t]*[-–][ \\t]*");
            String first = range[0];
            if (!doc.sections().contains(first)) {
                missing.add("§" + first);
            }
            if (range.length == 2) {
                String last = completeRangeEnd(first, range[1]);
                if (!doc.sections().contains(last)) {
                    missing.add("§" + last);
                }
            }
        }
        return missing;
    }

    /**
     * A range end shorter than its start keeps the start's prefix: 4.2-3 ends at 4.3, 4.2-5.1 at
     * 5.1.
     */
    private static String completeRangeEnd(String first, String end) {
        String[] a = first.split("\\.");
        String[] b = end.split("\\.");
        if (b.length >= a.length) {
            return end;
        }
        String[] full = a.clone();
        System.arraycopy(b, 0, full, a.length - b.length, b.length);
        return String.join(".", full);
    }

    private static String describe(String ref) {
        return ref.startsWith("\"") ? "heading " + ref : "section " + ref;
    }

    private static int lineOf(String text, int offset) {
        int line = 1;
        for (int i = 0; i < offset; i++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }

    /** {@code docs/hub.md} gives {@code hub}; a file outside docs/ gives null. */
    private static String docsFileName(String relative) {
        if (relative.startsWith("docs/")
                && relative.endsWith(".md")
                && relative.indexOf('/', 5) < 0) {
            return relative.substring(5, relative.length() - 3);
        }
        return null;
    }

    /**
     * Sources, build files, scripts, READMEs and docs/: every file with comments that may cite
     * docs/, below {@code root}, skipping build output and hidden folders other than {@code .ci}.
     */
    static List<Path> scannedFiles(Path root) throws IOException {
        List<Path> files = new ArrayList<>();
        Files.walkFileTree(
                root,
                new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                        String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                        if (!dir.equals(root)
                                && (SKIPPED_FOLDERS.contains(name)
                                        || (name.startsWith(".") && !name.equals(".ci")))) {
                            return FileVisitResult.SKIP_SUBTREE;
                        }
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                            throws IOException {
                        if (attrs.isRegularFile() && scanned(root, file)) {
                            files.add(file);
                        }
                        return FileVisitResult.CONTINUE;
                    }
                });
        files.sort(null);
        return files;
    }

    private static boolean scanned(Path root, Path file) throws IOException {
        String name = file.getFileName().toString();
        String lower = name.toLowerCase(Locale.ROOT);
        if (name.equals("pom.xml") || (lower.startsWith("readme") && lower.endsWith(".md"))) {
            return true;
        }
        if (root.relativize(file).toString().replace('\\', '/').matches("docs/[^/]+\\.md")) {
            return true;
        }
        int dot = name.lastIndexOf('.');
        if (dot > 0) {
            return SOURCE_EXTENSIONS.contains(lower.substring(dot + 1));
        }
        byte[] start = new byte[2];
        try (var in = Files.newInputStream(file)) {
            return in.read(start) == 2 && start[0] == '#' && start[1] == '!';
        }
    }
}
