/*
 * The project's formatter: google-java-format in its AOSP style (4-space indent), over every Java
 * source under the modules' src folders. The parent pom runs it with the build's JDK 25 toolchain
 * in the validate phase (docs/BUILD.md, "Formatting"):
 *
 *   check  lists the files whose formatting differs and fails the build;
 *   apply  rewrites them in place.
 *
 * Usage: java -cp google-java-format-all-deps.jar tools/Format.java check|apply ROOT
 */
import com.google.googlejavaformat.java.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

void main(String[] args) throws Exception {
    if (args.length != 2 || !(args[0].equals("check") || args[0].equals("apply"))) {
        System.err.println("usage: Format.java check|apply ROOT");
        System.exit(2);
    }
    boolean apply = args[0].equals("apply");
    Path root = Path.of(args[1]);
    List<String> sources = javaSources(root);
    List<String> formatterArgs = new ArrayList<>(List.of("--aosp"));
    formatterArgs.addAll(apply ? List.of("--replace") : List.of("--dry-run"));
    formatterArgs.addAll(sources);
    StringWriter listed = new StringWriter();
    PrintWriter err = new PrintWriter(System.err, true);
    int status;
    try (PrintWriter out = new PrintWriter(listed)) {
        status = new Main(out, err, System.in).format(formatterArgs.toArray(String[]::new));
    }
    String differing = listed.toString().strip();
    if (status != 0) {
        System.exit(status);
    }
    if (apply) {
        System.out.println("formatted " + sources.size() + " Java files");
    } else if (!differing.isEmpty()) {
        System.err.println("These files are not formatted (google-java-format --aosp):");
        differing.lines().forEach(f -> System.err.println("  " + root.relativize(Path.of(f))));
        System.err.println("Run: mvn -N validate -Dsafeload.format=apply");
        System.exit(1);
    }
}

/** Every .java file under ROOT/<module>/src, sorted, so the run does not depend on walk order. */
List<String> javaSources(Path root) throws IOException {
    List<Path> srcRoots;
    try (Stream<Path> modules = Files.list(root)) {
        srcRoots = modules.map(m -> m.resolve("src")).filter(Files::isDirectory).sorted().toList();
    }
    List<String> files = new ArrayList<>();
    for (Path src : srcRoots) {
        try (Stream<Path> walk = Files.walk(src)) {
            walk.filter(p -> p.toString().endsWith(".java") && Files.isRegularFile(p))
                    .map(Path::toString)
                    .sorted()
                    .forEach(files::add);
        }
    }
    return files;
}
