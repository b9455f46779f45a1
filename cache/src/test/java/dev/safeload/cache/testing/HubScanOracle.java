package dev.safeload.cache.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.safeload.cache.CacheReport;
import dev.safeload.cache.CachedRepo;
import dev.safeload.cache.CachedRevision;
import dev.safeload.testing.PythonOracle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * huggingface_hub's {@code scan_cache_dir} as an oracle: both scans reduced to one JSON shape
 * (repos by cache id with size, file count and revisions with size, file count and refs; the total;
 * the warnings) so a test compares them with one equality.
 */
public final class HubScanOracle {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCRIPT =
            """
            import json, sys
            from huggingface_hub import scan_cache_dir
            info = scan_cache_dir(sys.argv[1])
            repos = {}
            for r in info.repos:
                repos[f"{r.repo_type}/{r.repo_id}"] = {
                    "size": r.size_on_disk, "nb_files": r.nb_files,
                    "revisions": {v.commit_hash: {"size": v.size_on_disk, "nb_files": v.nb_files,
                                                  "refs": sorted(v.refs)} for v in r.revisions}}
            print(json.dumps({"size_on_disk": info.size_on_disk, "repos": repos,
                              "warnings": sorted(str(w) for w in info.warnings)}))
            """;

    private HubScanOracle() {}

    /** What huggingface_hub's scan reports for {@code root}, in the shared shape. */
    public static JsonNode reference(Path root) {
        PythonOracle.Result result =
                PythonOracle.run(SCRIPT, List.of(root.toString()), Map.of(), 120).orThrow();
        try {
            return JSON.readTree(result.stdout());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * huggingface_hub's {@code delete_revisions(*commits).expected_freed_size} for {@code root}.
     */
    public static long expectedFreedSize(Path root, List<String> commits) {
        List<String> args = new java.util.ArrayList<>(List.of(root.toString()));
        args.addAll(commits);
        PythonOracle.Result result =
                PythonOracle.run(
                                """
                                import sys
                                from huggingface_hub import scan_cache_dir
                                print(scan_cache_dir(sys.argv[1]).delete_revisions(*sys.argv[2:]).expected_freed_size)
                                """,
                                args,
                                Map.of(),
                                120)
                        .orThrow();
        return Long.parseLong(result.stdout().strip());
    }

    /** Our report in the shared shape. */
    public static JsonNode ours(CacheReport report) {
        ObjectNode out = JSON.createObjectNode();
        out.put("size_on_disk", report.sizeOnDisk());
        ObjectNode repos = out.putObject("repos");
        for (CachedRepo repo : report.repos()) {
            ObjectNode r = repos.putObject(repo.cacheId());
            r.put("size", repo.sizeOnDisk());
            r.put("nb_files", repo.fileCount());
            ObjectNode revisions = r.putObject("revisions");
            for (CachedRevision revision : repo.revisions()) {
                ObjectNode v = revisions.putObject(revision.commit());
                v.put("size", revision.sizeOnDisk());
                v.put("nb_files", revision.fileCount());
                revision.refs().forEach(v.putArray("refs")::add);
            }
        }
        var warnings = out.putArray("warnings");
        report.problems().stream().map(p -> p.message()).sorted().forEach(warnings::add);
        // Through text, so numbers compare by value as they do in the parsed Python output.
        try {
            return JSON.readTree(JSON.writeValueAsString(out));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
