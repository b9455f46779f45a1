package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Every comment that cites docs/ names a file and a section that exist (docs/DESIGN.md
 * "Documentation"), and the checker itself finds what it should on small inputs.
 */
class DocCitationsTest {
    private static final DocCitations.Doc HUB =
            DocCitations.Doc.parse(
                    """
                    # Hub
                    ## 1. Cache layout
                    ### 1.2 Inside a repo folder
                    ### 1.3 Symlinks
                    ### 1.4 refs
                    ## 2. Download protocol
                    ### 2.4 Redirects
                    ```
                    # 9.9 a shell comment in a code block is no heading
                    ```
                    """);
    private static final DocCitations.Doc BUILD =
            DocCitations.Doc.parse("# Building\n## Which JDK\n## Formatting\n");
    private static final Map<String, DocCitations.Doc> DOCS = Map.of("hub", HUB, "BUILD", BUILD);

    @TempDir Path tmp;

    @Test
    void theRepositoryCitesOnlyWhatDocsHolds() throws IOException {
        Path root = DocCitations.repositoryRoot(Path.of(System.getProperty("basedir", "")));
        DocCitations.Report report = DocCitations.check(root);
        if (!report.problems().isEmpty()) {
            fail(
                    report.problems().size()
                            + " citation(s) of docs/ do not resolve (docs/DESIGN.md"
                            + " \"Documentation\" says how to cite):\n  "
                            + report.problems().stream()
                                    .map(DocCitations.Problem::toString)
                                    .collect(Collectors.joining("\n  ")));
        }
        // The scan must have seen the tree, or an empty report proves nothing.
        assertTrue(report.filesScanned() > 200, "files scanned: " + report.filesScanned());
        assertTrue(report.resolved() > 60, "citations resolved: " + report.resolved());
    }

    @Test
    void sectionsRangesHeadingsAndContinuedLinesResolve() {
        String source =
                """
                /**
                 * See docs/hub.md §2.4, docs/hub.md §1.2-1.4 and (docs/hub.md
                 * §1.3 and §2.4). Also docs/BUILD.md "Which JDK", docs/BUILD.md, "Formatting".
                 */
                // docs/hub.md §1.2, §1.3, applied to a repo; plain docs/hub.md
                # docs/hub.md §1
                """;
        DocCitations.CheckResult result = check("A.java", source);
        assertEquals(List.of(), result.problems());
        assertEquals(8, result.resolved());
    }

    @Test
    void aMissingFileSectionRangeEndOrHeadingIsReportedWithItsLine() {
        String source =
                """
                class A {
                    // docs/nowhere.md §1
                    // docs/hub.md §9.9
                    // docs/hub.md §1.2-1.7
                    /* docs/BUILD.md "GPU tests" */
                    // docs/hub.md §1.3 and §3.1
                }
                """;
        List<String> problems = lines(check("src/A.java", source));
        assertEquals(
                List.of(
                        "src/A.java:2: docs/nowhere.md §1: docs/nowhere.md does not exist",
                        "src/A.java:3: docs/hub.md §9.9: docs/hub.md has no section §9.9",
                        "src/A.java:4: docs/hub.md §1.2-1.7: docs/hub.md has no section §1.7",
                        "src/A.java:5: docs/BUILD.md \"GPU tests\": docs/BUILD.md has no heading"
                                + " \"GPU tests\"",
                        "src/A.java:6: docs/hub.md §1.3 and §3.1: docs/hub.md has no section §3.1"),
                problems);
    }

    @Test
    void theSharedNotesTheirBareNamesAndLoneSectionSignsAreRefused() {
        String source =
                """
                # see reference/hub.md §2.4
                # PEFT's key layout (lora.md 1.3)
                # as described in §2.4 above
                # RFC 9110 §15.4 is not ours
                """;
        List<String> problems = lines(check("run.sh", source));
        assertEquals(
                List.of(
                        "run.sh:1: reference/hub.md §2.4: the shared research notes are not in the"
                                + " repository; cite docs/hub.md instead",
                        "run.sh:3: §2.4: a section with no file; name the docs/ file it is in",
                        "run.sh:2: lora.md: names the research notes without docs/; cite"
                                + " docs/lora.md §N instead"),
                problems);
    }

    @Test
    void insideDocsSiblingsAndOwnSectionsAreCitations() {
        String markdown =
                """
                ## 3. Things
                As §1.2 says, and hub.md §2.4 and BUILD.md "Which JDK"; not hub.md §7.
                The README.md of a module is just a file.
                """;
        List<String> problems =
                lines(DocCitations.checkText("docs/hub.md", markdown, this::doc, "hub"));
        assertEquals(List.of("docs/hub.md:2: hub.md §7: docs/hub.md has no section §7"), problems);
    }

    @Test
    void theScanSkipsBuildOutputAndHiddenFoldersButReadsScriptsWithoutAnExtension()
            throws IOException {
        Files.createDirectories(tmp.resolve("docs"));
        Files.writeString(tmp.resolve("pom.xml"), "<!-- docs/hub.md §1 -->");
        Files.createDirectories(tmp.resolve("m/target"));
        Files.writeString(tmp.resolve("m/target/Gen.java"), "// docs/hub.md §1");
        Files.createDirectories(tmp.resolve(".git"));
        Files.writeString(tmp.resolve(".git/x.sh"), "# docs/hub.md §1");
        Files.createDirectories(tmp.resolve(".ci"));
        Files.writeString(tmp.resolve(".ci/run"), "#!/bin/sh\n# docs/hub.md §1\n");
        Files.writeString(tmp.resolve("notes.txt"), "docs/hub.md §1");
        Files.writeString(tmp.resolve("docs/hub.md"), "# Hub\n## 1. Cache layout\n");

        DocCitations.Report report = DocCitations.check(tmp);

        assertEquals(List.of(), report.problems());
        assertEquals(3, report.filesScanned()); // pom.xml, .ci/run, docs/hub.md
        assertEquals(2, report.resolved());
        assertEquals(tmp.toRealPath(), DocCitations.repositoryRoot(tmp.resolve("m")).toRealPath());
    }

    private DocCitations.CheckResult check(String file, String text) {
        return DocCitations.checkText(file, text, this::doc, null);
    }

    private Optional<DocCitations.Doc> doc(String name) {
        return Optional.ofNullable(DOCS.get(name));
    }

    private static List<String> lines(DocCitations.CheckResult result) {
        return result.problems().stream().map(DocCitations.Problem::toString).toList();
    }
}
