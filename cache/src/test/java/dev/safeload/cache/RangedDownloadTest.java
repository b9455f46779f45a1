package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cache.testing.FakeHub;
import dev.safeload.cache.testing.FakeHub.Fault;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One file over several ranged connections (HubSettings.connectionsPerFile): the ranges asked for,
 * servers that ignore Range, cut and corrupt bodies, and what is kept for a resume.
 */
class RangedDownloadTest {
    static final HubRepo REPO = HubRepo.model("org/ranged");
    static final int CHUNK = 256 * 1024;
    static final Pattern BOUNDED = Pattern.compile("bytes=(\\d+)-(\\d+)");

    @TempDir Path cache;

    FakeHub hub;
    byte[] weights = new byte[10 * CHUNK + 12_345];
    byte[] second = new byte[6 * CHUNK];

    @BeforeEach
    void start() {
        new Random(3).nextBytes(weights);
        new Random(4).nextBytes(second);
        hub = FakeHub.start();
        hub.repo(RepoType.MODEL, "org/ranged")
                .lfsFile("model.safetensors", weights)
                .lfsFile("other.safetensors", second)
                .commit("main");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubClient client(Consumer<HubSettings.Builder> tweak) {
        HubSettings.Builder b =
                HubSettings.builder(Map.of())
                        .cacheDir(cache)
                        .endpoint(hub.endpoint())
                        .retryBackoff(Duration.ofMillis(10))
                        .maxRetries(3)
                        .connectionsPerFile(4)
                        .rangeChunkBytes(CHUNK);
        tweak.accept(b);
        return new HubClient(b.build());
    }

    List<String> ranges() {
        return hub
                .requests(r -> r.method().equals("GET") && r.path().contains("model.safetensors"))
                .stream()
                .map(r -> String.valueOf(r.header("Range")))
                .toList();
    }

    @Test
    void aLargeFileIsFetchedInBoundedRangesThatCoverItOnce() throws IOException {
        try (HubClient client = client(b -> {})) {
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            assertArrayEquals(weights, Files.readAllBytes(file));
        }
        List<long[]> spans = new ArrayList<>();
        for (String range : ranges()) {
            Matcher m = BOUNDED.matcher(range);
            assertTrue(m.matches(), "every GET asks for a bounded range: " + range);
            spans.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        }
        assertEquals(11, spans.size(), "one request per chunk: " + ranges());
        spans.sort((a, b) -> Long.compare(a[0], b[0]));
        long next = 0;
        for (long[] span : spans) {
            assertEquals(next, span[0], "the chunks are back to back");
            assertTrue(span[1] - span[0] + 1 <= CHUNK);
            next = span[1] + 1;
        }
        assertEquals(weights.length, next);
        assertNoPartialFiles();
    }

    @Test
    void oneConnectionPerFileAsksForNoRange() throws IOException {
        try (HubClient client = client(b -> b.connectionsPerFile(1))) {
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            assertArrayEquals(weights, Files.readAllBytes(file));
        }
        assertEquals(List.of("null"), ranges());
    }

    @Test
    void aServerThatIgnoresRangesIsNoticedAndGetsOneConnection() throws IOException {
        hub.ignoreRanges(true);
        try (HubClient client = client(b -> {})) {
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            assertArrayEquals(weights, Files.readAllBytes(file));
            // The first answer was the whole file (200): it was kept, nothing asked twice.
            assertEquals(1, ranges().size(), "one GET: " + ranges());
            Path other = client.downloadFile(REPO, "other.safetensors", "main");
            assertArrayEquals(second, Files.readAllBytes(other));
        }
        List<String> otherRanges =
                hub
                        .requests(
                                r ->
                                        r.method().equals("GET")
                                                && r.path().contains("other.safetensors"))
                        .stream()
                        .map(r -> r.header("Range"))
                        .toList();
        assertEquals(1, otherRanges.size());
        assertNull(otherRanges.getFirst(), "the refusal is remembered: no range asked");
    }

    @Test
    void aCutRangeIsResumedFromWhereItStopped() throws IOException {
        hub.fault(Fault.cut("model.safetensors", 100_000, 2));
        try (HubClient client = client(b -> {})) {
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            assertArrayEquals(weights, Files.readAllBytes(file));
        }
        long resumedMidChunk =
                ranges().stream()
                        .map(BOUNDED::matcher)
                        .filter(Matcher::matches)
                        .filter(m -> Long.parseLong(m.group(1)) % CHUNK == 100_000)
                        .count();
        assertEquals(2, resumedMidChunk, "each cut chunk continues at byte 100000 of it");
        assertNoPartialFiles();
    }

    @Test
    void aCorruptBodyOverRangesLeavesNothingInTheCache() throws IOException {
        hub.fault(Fault.corrupt("model.safetensors", -1));
        try (HubClient client = client(b -> {})) {
            HubException e =
                    assertThrows(
                            HubException.class,
                            () -> client.downloadFile(REPO, "model.safetensors", "main"));
            assertEquals(HubError.Corrupted, e.kind());
        }
        try (Stream<Path> blobs = Files.list(cache.resolve("models--org--ranged/blobs"))) {
            assertEquals(List.of(), blobs.toList(), "no blob and no partial file");
        }
    }

    @Test
    void aFailedRangedDownloadKeepsOnlyAGaplessPrefixAndResumesFromIt() throws IOException {
        // Every GET is cut after 100000 bytes, and no attempt is allowed a retry: the download
        // fails with chunks half done all over the file.
        hub.fault(Fault.cut("model.safetensors", 100_000, -1));
        try (HubClient client = client(b -> b.maxRetries(0))) {
            HubException e =
                    assertThrows(
                            HubException.class,
                            () -> client.downloadFile(REPO, "model.safetensors", "main"));
            assertEquals(HubError.Network, e.kind(), e.getMessage());
        }
        Path partial;
        try (Stream<Path> files = Files.list(cache.resolve("models--org--ranged/blobs"))) {
            partial = files.filter(p -> p.toString().endsWith(".incomplete")).findFirst().get();
        }
        long kept = Files.size(partial);
        assertEquals(100_000, kept, "the first chunk's 100000 bytes, not the holes after them");
        byte[] prefix = java.util.Arrays.copyOf(weights, (int) kept);
        assertArrayEquals(prefix, Files.readAllBytes(partial));

        hub.clearFaults();
        hub.clearRequests();
        try (HubClient client = client(b -> {})) {
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            assertArrayEquals(weights, Files.readAllBytes(file));
        }
        assertTrue(
                ranges().contains("bytes=100000-" + (CHUNK - 1)),
                "the resume starts at the kept prefix: " + ranges());
        assertFalse(ranges().stream().anyMatch(r -> r.startsWith("bytes=0-")));
    }

    @Test
    void aThrottledHubStillDeliversEveryByte() throws IOException {
        hub.bandwidthPerConnection(4L << 20);
        try (HubClient client = client(b -> {})) {
            Path file = client.downloadFile(REPO, "model.safetensors", "main");
            assertArrayEquals(weights, Files.readAllBytes(file));
        }
    }

    @Test
    void snapshotFilesAreFetchedInRangesToo() throws IOException {
        try (HubClient client = client(b -> {})) {
            Path dir = client.snapshotDownload(REPO, "main", SnapshotOptions.defaults());
            assertArrayEquals(weights, Files.readAllBytes(dir.resolve("model.safetensors")));
            assertArrayEquals(second, Files.readAllBytes(dir.resolve("other.safetensors")));
        }
        assertEquals(11, ranges().size());
    }

    private void assertNoPartialFiles() throws IOException {
        try (Stream<Path> files = Files.walk(cache)) {
            assertEquals(
                    List.of(),
                    files.filter(p -> p.toString().endsWith(".incomplete")).toList(),
                    "no partial file left");
        }
    }
}
