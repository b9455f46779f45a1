package dev.safeload.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.safeload.cache.CacheProblem;
import dev.safeload.cache.CacheReport;
import dev.safeload.cache.CacheScanner;
import dev.safeload.cache.CachedFile;
import dev.safeload.cache.CachedRepo;
import dev.safeload.cache.CachedRevision;
import dev.safeload.cache.IncompleteFile;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code safeload scan}: what a hub cache holds, and what in it is corrupt. */
@Command(
        name = "scan",
        mixinStandardHelpOptions = true,
        description = {
            "Lists the repositories, revisions, refs and sizes of a hub cache (blobs counted once"
                    + " per repository, as huggingface_hub counts them) and the problems found.",
            "Corrupt repositories are listed as problems, not as repositories."
        })
final class ScanCommand implements Callable<Integer> {
    @Mixin HubCacheOption cache;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        CacheReport report = CacheScanner.scan(cache.resolve());
        if (json) {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            System.out.println(mapper.writeValueAsString(toJson(mapper, report)));
        } else {
            printTable(report);
        }
        System.out.flush();
        return 0;
    }

    static ObjectNode toJson(ObjectMapper mapper, CacheReport report) {
        ObjectNode root = mapper.createObjectNode();
        root.put("cache_dir", report.root().toString());
        root.put("size_on_disk", report.sizeOnDisk());
        root.put("physical_size_on_disk", report.physicalSizeOnDisk());
        ArrayNode repos = root.putArray("repos");
        for (CachedRepo repo : report.repos()) {
            ObjectNode r = repos.addObject();
            r.put("id", repo.cacheId());
            r.put("repo_id", repo.repoId());
            r.put("repo_type", repo.type().id());
            r.put("repo_path", repo.repoPath().toString());
            r.put("size_on_disk", repo.sizeOnDisk());
            r.put("nb_files", repo.fileCount());
            r.put("last_accessed", repo.lastAccessed().toString());
            r.put("last_modified", repo.lastModified().toString());
            ObjectNode refs = r.putObject("refs");
            repo.refs().forEach(refs::put);
            ArrayNode revisions = r.putArray("revisions");
            for (CachedRevision revision : repo.revisions()) {
                ObjectNode v = revisions.addObject();
                v.put("commit_hash", revision.commit());
                v.put("snapshot_path", revision.snapshotPath().toString());
                v.put("size_on_disk", revision.sizeOnDisk());
                v.put("nb_files", revision.fileCount());
                v.put("last_modified", revision.lastModified().toString());
                ArrayNode vrefs = v.putArray("refs");
                revision.refs().forEach(vrefs::add);
                ArrayNode files = v.putArray("files");
                for (CachedFile file : revision.files()) {
                    ObjectNode f = files.addObject();
                    f.put("path", file.path());
                    f.put("blob_path", file.blobPath().toString());
                    f.put("size_on_disk", file.size());
                }
            }
        }
        ArrayNode incomplete = root.putArray("incomplete_files");
        for (IncompleteFile file : report.incompleteFiles()) {
            incomplete
                    .addObject()
                    .put("path", file.path().toString())
                    .put("size_on_disk", file.size());
        }
        ArrayNode problems = root.putArray("problems");
        for (CacheProblem problem : report.problems()) {
            problems.addObject()
                    .put("path", problem.path().toString())
                    .put("message", problem.message());
        }
        return root;
    }

    private static void printTable(CacheReport report) {
        Instant now = Instant.now();
        List<String[]> rows = new ArrayList<>();
        rows.add(
                new String[] {
                    "ID", "REVISION", "SIZE", "FILES", "LAST_ACCESSED", "LAST_MODIFIED", "REFS"
                });
        for (CachedRepo repo : report.repos()) {
            rows.add(
                    new String[] {
                        repo.cacheId(),
                        "",
                        HumanFormat.size(repo.sizeOnDisk()),
                        Integer.toString(repo.fileCount()),
                        HumanFormat.age(repo.lastAccessed(), now),
                        HumanFormat.age(repo.lastModified(), now),
                        String.join(", ", repo.refs().keySet())
                    });
            for (CachedRevision revision : repo.revisions()) {
                rows.add(
                        new String[] {
                            "",
                            revision.commit(),
                            HumanFormat.size(revision.sizeOnDisk()),
                            Integer.toString(revision.fileCount()),
                            "",
                            HumanFormat.age(revision.lastModified(), now),
                            String.join(", ", revision.refs())
                        });
            }
        }
        Table.print(rows);
        System.out.printf(
                Locale.ROOT,
                "%nFound %d repo(s) for a total of %d revision(s) and %s on disk in %s.%n",
                report.repos().size(),
                report.revisionCount(),
                HumanFormat.size(report.sizeOnDisk()),
                report.root());
        if (!report.incompleteFiles().isEmpty()) {
            System.out.printf(
                    Locale.ROOT,
                    "Found %d incomplete download(s) totalling %s.%n",
                    report.incompleteFiles().size(),
                    HumanFormat.size(report.incompleteSizeOnDisk()));
        }
        if (!report.problems().isEmpty()) {
            System.out.printf(
                    Locale.ROOT,
                    "Found %d problem(s); the repositories concerned are not listed above:%n",
                    report.problems().size());
            for (CacheProblem problem : report.problems()) {
                System.out.println("problem: " + problem.message());
            }
        }
    }
}
