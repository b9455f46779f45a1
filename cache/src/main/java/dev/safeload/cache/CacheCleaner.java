package dev.safeload.cache;

import dev.safeload.cache.internal.RepoGlob;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Plans the removal of cached revisions with huggingface_hub's delete strategy ({@code
 * HFCacheInfo.delete_revisions}, docs/hub.md §5.3): a revision's snapshot folder and the refs
 * pointing at it go, and its blobs go only when no remaining revision of the repository uses them;
 * a repository whose every revision is selected goes whole. Plans are made from a {@link
 * CacheReport}, so repositories the scan found corrupt are never touched.
 */
public final class CacheCleaner {
    private CacheCleaner() {}

    /**
     * Plans {@code safeload delete}: each target is {@code REPO} or {@code REPO@REVISION}. REPO is
     * a repo id ({@code org/name}) or a cache id ({@code model/org/name}), and may be a glob with
     * {@code fnmatch} semantics ({@code 'bert-*'}); REVISION is a commit, a unique commit prefix of
     * at least 7 digits, or a ref name ({@code main}, {@code refs/pr/1}).
     *
     * @param report a scan of the cache; only its valid repositories can be selected
     * @param targets what to delete, {@code REPO} or {@code REPO@REVISION} each
     * @return the plan; nothing is removed until {@link DeletionPlan#execute()}
     * @throws HubException {@link HubError#RepoNotFound} or {@link HubError#RevisionNotFound} when
     *     a target matches nothing; nothing is planned then
     */
    public static DeletionPlan planDelete(CacheReport report, List<String> targets) {
        Map<CachedRepo, Set<CachedRevision>> selected = new LinkedHashMap<>();
        for (String target : targets) {
            select(report, target, selected);
        }
        return plan(selected);
    }

    /**
     * Plans {@code safeload prune}: every revision that no ref points to.
     *
     * @param report a scan of the cache
     * @return the plan, empty when every revision has a ref
     */
    public static DeletionPlan planPrune(CacheReport report) {
        Map<CachedRepo, Set<CachedRevision>> selected = new LinkedHashMap<>();
        for (CachedRepo repo : report.repos()) {
            for (CachedRevision revision : repo.revisions()) {
                if (revision.detached()) {
                    selected.computeIfAbsent(repo, r -> new LinkedHashSet<>()).add(revision);
                }
            }
        }
        return plan(selected);
    }

    private static void select(
            CacheReport report, String target, Map<CachedRepo, Set<CachedRevision>> selected) {
        int at = target.indexOf('@');
        String repoPart = at < 0 ? target : target.substring(0, at);
        String revision = at < 0 ? null : target.substring(at + 1);
        if (repoPart.isEmpty() || (revision != null && revision.isEmpty())) {
            throw new HubException(
                    HubError.RepoNotFound,
                    String.format(
                            Locale.ROOT,
                            "'%s' is not a target: expected REPO or REPO@REVISION (REPO may be a"
                                    + " glob such as 'bert-*')",
                            target));
        }
        RepoGlob glob = new RepoGlob(List.of(repoPart), List.of());
        List<CachedRepo> repos =
                report.repos().stream()
                        .filter(r -> glob.accepts(r.repoId()) || glob.accepts(r.cacheId()))
                        .toList();
        if (repos.isEmpty()) {
            throw new HubException(
                    HubError.RepoNotFound,
                    String.format(
                            Locale.ROOT,
                            "no cached repository matches '%s' in %s (see 'safeload scan'; corrupt"
                                + " repositories are listed there as problems and are not deleted)",
                            repoPart,
                            report.root()));
        }
        boolean any = false;
        for (CachedRepo repo : repos) {
            List<CachedRevision> revisions =
                    revision == null ? repo.revisions() : matching(repo, revision);
            if (!revisions.isEmpty()) {
                selected.computeIfAbsent(repo, r -> new LinkedHashSet<>()).addAll(revisions);
                any = true;
            }
        }
        if (!any && revision != null) {
            throw new HubException(
                    HubError.RevisionNotFound,
                    String.format(
                            Locale.ROOT,
                            "no cached revision '%s' in %s (give a commit, a commit prefix of 7+"
                                    + " digits or a ref name)",
                            revision,
                            repos.stream().map(CachedRepo::cacheId).toList()));
        }
    }

    private static List<CachedRevision> matching(CachedRepo repo, String revision) {
        List<CachedRevision> exact =
                repo.revisions().stream()
                        .filter(r -> r.commit().equals(revision) || r.refs().contains(revision))
                        .toList();
        if (!exact.isEmpty() || revision.length() < 7 || !revision.matches("[0-9a-f]+")) {
            return exact;
        }
        List<CachedRevision> byPrefix =
                repo.revisions().stream().filter(r -> r.commit().startsWith(revision)).toList();
        if (byPrefix.size() > 1) {
            throw new HubException(
                    HubError.RevisionNotFound,
                    String.format(
                            Locale.ROOT,
                            "commit prefix '%s' is ambiguous in %s: %s",
                            revision,
                            repo.cacheId(),
                            byPrefix.stream().map(CachedRevision::commit).toList()));
        }
        return byPrefix;
    }

    private static DeletionPlan plan(Map<CachedRepo, Set<CachedRevision>> selected) {
        List<String> revisions = new ArrayList<>();
        List<Path> repoFolders = new ArrayList<>();
        List<Path> refs = new ArrayList<>();
        List<Path> snapshots = new ArrayList<>();
        Set<Path> blobs = new LinkedHashSet<>();
        long freed = 0;
        for (Map.Entry<CachedRepo, Set<CachedRevision>> e : selected.entrySet()) {
            CachedRepo repo = e.getKey();
            Set<CachedRevision> doomed = e.getValue();
            doomed.forEach(r -> revisions.add(repo.cacheId() + "@" + r.commit()));
            if (doomed.size() == repo.revisions().size()) {
                repoFolders.add(repo.repoPath());
                freed += repo.sizeOnDisk();
                continue;
            }
            Set<Path> stillUsed = new HashSet<>();
            repo.revisions().stream()
                    .filter(r -> !doomed.contains(r))
                    .forEach(r -> r.files().forEach(f -> stillUsed.add(f.blobPath())));
            Set<Path> counted = new HashSet<>();
            for (CachedRevision revision : doomed) {
                snapshots.add(revision.snapshotPath());
                revision.refs()
                        .forEach(ref -> refs.add(repo.repoPath().resolve("refs").resolve(ref)));
                for (CachedFile file : revision.files()) {
                    // A regular file inside the snapshot (a cache written without symlinks) goes
                    // with
                    // the snapshot folder; count it, as the reference does, but do not list it
                    // twice.
                    boolean insideSnapshot = file.blobPath().startsWith(revision.snapshotPath());
                    if ((insideSnapshot || !stillUsed.contains(file.blobPath()))
                            && counted.add(file.blobPath())) {
                        freed += file.size();
                        if (!insideSnapshot) {
                            blobs.add(file.blobPath());
                        }
                    }
                }
            }
        }
        return new DeletionPlan(revisions, repoFolders, refs, snapshots, List.copyOf(blobs), freed);
    }
}
