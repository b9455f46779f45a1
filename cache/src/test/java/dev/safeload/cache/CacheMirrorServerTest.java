package dev.safeload.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.safeload.cache.testing.CacheFixture;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

class CacheMirrorServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] CONFIG = "{\"hidden_size\": 16}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] WEIGHTS = CacheFixture.bytes(300_000, 21);
    private static final byte[] WEIGHTS_PR = CacheFixture.bytes(1000, 22);
    private static final byte[] NOTES = "nested".getBytes(StandardCharsets.UTF_8);

    @TempDir Path tmp;

    private CacheFixture cache;
    private String mainCommit;
    private String prCommit;
    private CacheMirrorServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        cache = new CacheFixture(tmp.resolve("hub"));
        CacheFixture.Repo repo = cache.repo("model", "org/m");
        mainCommit =
                repo.commit(1)
                        .file("config.json", CONFIG)
                        .lfs("model.safetensors", WEIGHTS)
                        .file("sub/deep/notes.txt", NOTES)
                        .ref("main")
                        .commit();
        prCommit =
                repo.commit(2)
                        .file("config.json", CONFIG)
                        .lfs("model.safetensors", WEIGHTS_PR)
                        .ref("refs/pr/1")
                        .commit();
        cache.repo("dataset", "squad")
                .commit(3)
                .file("data.csv", "q,a\n".getBytes(StandardCharsets.UTF_8))
                .ref("main");
        server =
                CacheMirrorServer.start(
                        new CacheMirrorServer.Options(cache.root()).withTreePageSize(2));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<byte[]> send(String method, String rawPath, String... headers)
            throws Exception {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(server.uri() + rawPath))
                        .method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    @Test
    void headGivesTheHubsMetadataHeaders() throws Exception {
        HttpResponse<byte[]> lfs = send("HEAD", "/org/m/resolve/main/model.safetensors");
        assertEquals(200, lfs.statusCode());
        assertEquals(mainCommit, header(lfs, "X-Repo-Commit"));
        assertEquals("\"" + CacheFixture.sha256(WEIGHTS) + "\"", header(lfs, "ETag"));
        assertEquals("\"" + CacheFixture.sha256(WEIGHTS) + "\"", header(lfs, "X-Linked-Etag"));
        assertEquals(Integer.toString(WEIGHTS.length), header(lfs, "X-Linked-Size"));
        assertEquals(Integer.toString(WEIGHTS.length), header(lfs, "Content-Length"));
        assertEquals("bytes", header(lfs, "Accept-Ranges"));
        assertEquals(0, lfs.body().length);

        HttpResponse<byte[]> git = send("HEAD", "/org/m/resolve/" + mainCommit + "/config.json");
        assertEquals("\"" + CacheFixture.gitSha1(CONFIG) + "\"", header(git, "ETag"));
        assertEquals(null, header(git, "X-Linked-Etag"), "only LFS files have a linked etag");
        assertEquals(Integer.toString(CONFIG.length), header(git, "Content-Length"));
    }

    @Test
    void getServesBytesWholeAndByRange() throws Exception {
        assertArrayEquals(WEIGHTS, send("GET", "/org/m/resolve/main/model.safetensors").body());
        assertArrayEquals(NOTES, send("GET", "/org/m/resolve/main/sub/deep/notes.txt").body());
        assertArrayEquals(
                WEIGHTS_PR, send("GET", "/org/m/resolve/refs%2Fpr%2F1/model.safetensors").body());
        assertEquals(
                "q,a\n",
                new String(
                        send("GET", "/datasets/squad/resolve/main/data.csv").body(),
                        StandardCharsets.UTF_8));

        HttpResponse<byte[]> middle =
                send("GET", "/org/m/resolve/main/model.safetensors", "Range", "bytes=1000-1999");
        assertEquals(206, middle.statusCode());
        assertEquals("bytes 1000-1999/" + WEIGHTS.length, header(middle, "Content-Range"));
        assertArrayEquals(Arrays.copyOfRange(WEIGHTS, 1000, 2000), middle.body());

        HttpResponse<byte[]> resume =
                send("GET", "/org/m/resolve/main/model.safetensors", "Range", "bytes=299990-");
        assertEquals(206, resume.statusCode());
        assertArrayEquals(Arrays.copyOfRange(WEIGHTS, 299_990, WEIGHTS.length), resume.body());

        // The JS client's probe.
        HttpResponse<byte[]> probe =
                send("GET", "/org/m/resolve/main/model.safetensors", "Range", "bytes=0-0");
        assertEquals("bytes 0-0/" + WEIGHTS.length, header(probe, "Content-Range"));
        assertEquals(1, probe.body().length);

        HttpResponse<byte[]> suffix =
                send("GET", "/org/m/resolve/main/config.json", "Range", "bytes=-4");
        assertArrayEquals(
                Arrays.copyOfRange(CONFIG, CONFIG.length - 4, CONFIG.length), suffix.body());

        HttpResponse<byte[]> past =
                send("GET", "/org/m/resolve/main/config.json", "Range", "bytes=999-");
        assertEquals(416, past.statusCode());
        assertEquals("bytes */" + CONFIG.length, header(past, "Content-Range"));
    }

    @Test
    void missesCarryTheHubsErrorCodes() throws Exception {
        HttpResponse<byte[]> repo = send("HEAD", "/org/absent/resolve/main/config.json");
        assertEquals(404, repo.statusCode());
        assertEquals("RepoNotFound", header(repo, "X-Error-Code"));
        HttpResponse<byte[]> revision = send("GET", "/org/m/resolve/v9/config.json");
        assertEquals("RevisionNotFound", header(revision, "X-Error-Code"));
        assertTrue(header(revision, "X-Error-Message").contains("v9"));
        HttpResponse<byte[]> entry = send("HEAD", "/org/m/resolve/main/absent.bin");
        assertEquals(404, entry.statusCode());
        assertEquals("EntryNotFound", header(entry, "X-Error-Code"));
        assertEquals(mainCommit, header(entry, "X-Repo-Commit"), "so clients can record .no_exist");
        assertEquals(
                "EntryNotFound",
                header(send("GET", "/org/m/resolve/main/sub"), "X-Error-Code"),
                "a folder is not a file");
    }

    @Test
    void pathsThatLeaveTheSnapshotAreRefused() throws Exception {
        Files.writeString(tmp.resolve("secret.txt"), "secret");
        Path snapshot = cache.root().resolve("models--org--m/snapshots").resolve(mainCommit);
        Files.createSymbolicLink(snapshot.resolve("escape.txt"), Path.of("../../../../secret.txt"));
        for (String path :
                List.of(
                        "/org/m/resolve/main/..%2F..%2F..%2F..%2Fsecret.txt",
                        "/org/m/resolve/main/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
                        "/org/m/resolve/main/sub%5C..%5C..%5Cconfig.json",
                        "/org/m/resolve/main/a%00b",
                        "/org/m/resolve/..%2F..%2Frefs%2Fmain/config.json",
                        "/org/m/resolve/main/escape.txt")) {
            HttpResponse<byte[]> response = send("GET", path);
            assertTrue(
                    response.statusCode() == 400 || response.statusCode() == 404,
                    path + " -> " + response.statusCode());
            assertFalse(
                    new String(response.body(), StandardCharsets.UTF_8).contains("secret\""), path);
            assertFalse(
                    Arrays.equals("secret".getBytes(StandardCharsets.UTF_8), response.body()),
                    path);
        }
    }

    @Test
    void revisionApiListsTheSnapshot() throws Exception {
        JsonNode info =
                JSON.readTree(send("GET", "/api/models/org/m/revision/main?blobs=true").body());
        assertEquals("org/m", info.get("id").asText());
        assertEquals(mainCommit, info.get("sha").asText());
        List<String> names = new ArrayList<>();
        info.get("siblings").forEach(s -> names.add(s.get("rfilename").asText()));
        assertEquals(List.of("config.json", "model.safetensors", "sub/deep/notes.txt"), names);
        JsonNode weights = info.get("siblings").get(1);
        assertEquals(CacheFixture.sha256(WEIGHTS), weights.at("/lfs/sha256").asText());
        assertEquals(WEIGHTS.length, weights.get("size").asLong());
        assertEquals(
                prCommit,
                JSON.readTree(send("GET", "/api/models/org/m/revision/refs%2Fpr%2F1").body())
                        .get("sha")
                        .asText());
        assertEquals(
                mainCommit,
                JSON.readTree(send("GET", "/api/models/org/m").body()).get("sha").asText());
        assertEquals(
                "RevisionNotFound",
                header(send("GET", "/api/models/org/m/revision/nope"), "X-Error-Code"));
        assertEquals(
                "RepoNotFound",
                header(send("GET", "/api/datasets/org/m/revision/main"), "X-Error-Code"));
    }

    @Test
    void treeApiPagesByLinkAndDescribesLfsFiles() throws Exception {
        List<JsonNode> items = new ArrayList<>();
        String next =
                server.uri()
                        + "/api/models/org/m/tree/"
                        + mainCommit
                        + "?recursive=true&expand=false";
        int pages = 0;
        while (next != null) {
            HttpResponse<byte[]> page =
                    http.send(
                            HttpRequest.newBuilder(URI.create(next)).build(),
                            HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, page.statusCode());
            JSON.readTree(page.body()).forEach(items::add);
            Optional<String> link = page.headers().firstValue("Link");
            next = link.map(l -> l.substring(l.indexOf('<') + 1, l.indexOf('>'))).orElse(null);
            pages++;
        }
        assertEquals(3, pages, "5 entries at 2 per page");
        List<String> paths =
                items.stream()
                        .map(i -> i.get("type").asText() + ":" + i.get("path").asText())
                        .toList();
        assertEquals(
                List.of(
                        "file:config.json",
                        "file:model.safetensors",
                        "directory:sub",
                        "directory:sub/deep",
                        "file:sub/deep/notes.txt"),
                paths);
        JsonNode lfs = items.get(1);
        byte[] pointer =
                ("version https://git-lfs.github.com/spec/v1\noid sha256:"
                                + CacheFixture.sha256(WEIGHTS)
                                + "\nsize "
                                + WEIGHTS.length
                                + "\n")
                        .getBytes(StandardCharsets.US_ASCII);
        assertEquals(CacheFixture.gitSha1(pointer), lfs.get("oid").asText());
        assertEquals(CacheFixture.sha256(WEIGHTS), lfs.at("/lfs/oid").asText());
        assertEquals(pointer.length, lfs.at("/lfs/pointerSize").asInt());
        assertEquals(CacheFixture.gitSha1(CONFIG), items.get(0).get("oid").asText());

        JsonNode sub = JSON.readTree(send("GET", "/api/models/org/m/tree/main/sub").body());
        assertEquals(1, sub.size());
        assertEquals("sub/deep", sub.get(0).get("path").asText());
        assertEquals(
                "EntryNotFound",
                header(send("GET", "/api/models/org/m/tree/main/nope"), "X-Error-Code"));
    }

    @Test
    void pathsInfoAnswersJsonAndFormBodies() throws Exception {
        for (String[] body :
                List.of(
                        new String[] {
                            "application/json", "{\"paths\": [\"config.json\", \"sub\", \"x\"]}"
                        },
                        new String[] {
                            "application/x-www-form-urlencoded",
                            "paths=config.json&paths=sub&paths=x&expand=false"
                        })) {
            HttpRequest request =
                    HttpRequest.newBuilder(
                                    URI.create(server.uri() + "/api/models/org/m/paths-info/main"))
                            .header("Content-Type", body[0])
                            .POST(HttpRequest.BodyPublishers.ofString(body[1]))
                            .build();
            JsonNode items =
                    JSON.readTree(
                            http.send(request, HttpResponse.BodyHandlers.ofByteArray()).body());
            assertEquals(2, items.size(), items.toString());
            assertEquals("file", items.get(0).get("type").asText());
            assertEquals(CONFIG.length, items.get(0).get("size").asInt());
            assertEquals("directory", items.get(1).get("type").asText());
        }
    }

    @Test
    void concurrentDownloadsAllGetWholeFiles() throws Exception {
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<byte[]>> futures = new ArrayList<>();
            for (int i = 0; i < 32; i++) {
                futures.add(
                        pool.submit(
                                () -> send("GET", "/org/m/resolve/main/model.safetensors").body()));
            }
            for (var f : futures) {
                assertArrayEquals(WEIGHTS, f.get());
            }
        }
    }

    @Test
    void missingCacheIsAClearError() {
        HubException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        HubException.class,
                        () ->
                                CacheMirrorServer.start(
                                        new CacheMirrorServer.Options(tmp.resolve("nope"))));
        assertEquals(HubError.CacheNotFound, e.kind());
    }
}
