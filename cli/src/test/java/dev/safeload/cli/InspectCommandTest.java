package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsWriter;
import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code safeload inspect}, in-process: the table, the --json contract, sharded models, failures.
 */
class InspectCommandTest {
    @TempDir Path dir;

    record Run(int exit, byte[] outBytes, String err) {
        String out() {
            return new String(outBytes, StandardCharsets.UTF_8);
        }
    }

    /** Runs the CLI in-process, capturing stdout (as bytes, for export) and stderr. */
    static Run run(String... args) {
        CliCapture.Outcome o = CliCapture.inProcess(args);
        return new Run(o.status(), o.stdoutBytes(), o.stderr());
    }

    private Path sample() {
        return RawFiles.write(
                dir,
                "model.safetensors",
                SafetensorsWriter.create()
                        .metadata(Map.of("format", "pt"))
                        .add("b.weight", DType.BF16, new long[] {2, 3}, new byte[12])
                        .add("a.bias", DType.F32, new long[] {3}, RawFiles.f32(1, 2, 3))
                        .toByteArray());
    }

    @Test
    void jsonFollowsTheContract() throws Exception {
        Run r = run("inspect", sample().toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals("pt", root.get("metadata").get("format").asText());
        JsonNode a = root.get("tensors").get("a.bias");
        assertEquals("F32", a.get("dtype").asText());
        assertEquals("[3]", a.get("shape").toString());
        assertEquals("[0,12]", a.get("data_offsets").toString());
        JsonNode b = root.get("tensors").get("b.weight");
        assertEquals("[2,3]", b.get("shape").toString());
        assertEquals("[12,24]", b.get("data_offsets").toString());
        assertTrue(a.get("file") == null, "no file key for a single file");
        assertEquals(2, root.get("tensors").size());
    }

    @Test
    void jsonNamesTheReaderAndTheFilesystemAndReaderOverridesAuto() throws Exception {
        JsonNode auto =
                new ObjectMapper()
                        .readTree(run("inspect", sample().toString(), "--json").out())
                        .get("reader");
        assertEquals("auto", auto.get("requested").asText());
        assertTrue(
                List.of("mmap", "pread").contains(auto.get("backend").asText()), auto.toString());
        assertFalse(auto.get("filesystem").asText().isEmpty());
        JsonNode pread =
                new ObjectMapper()
                        .readTree(
                                run("inspect", sample().toString(), "--json", "--reader", "pread")
                                        .out())
                        .get("reader");
        assertEquals("pread", pread.get("requested").asText());
        assertEquals("pread", pread.get("backend").asText());
        assertEquals(
                "mmap",
                new ObjectMapper()
                        .readTree(
                                run("inspect", sample().toString(), "--json", "--reader", "MMAP")
                                        .out())
                        .get("reader")
                        .get("backend")
                        .asText());
        Run bad = run("inspect", sample().toString(), "--reader", "direct");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("'direct' is not a reader"), bad.err());
    }

    @Test
    void metadataIsNullWithoutMetadata() throws Exception {
        Path p =
                RawFiles.write(
                        dir,
                        "x.safetensors",
                        SafetensorsWriter.create()
                                .add("t", DType.U8, new long[] {1}, new byte[1])
                                .toByteArray());
        Run r = run("inspect", p.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        assertTrue(new ObjectMapper().readTree(r.out()).get("metadata").isNull());
    }

    @Test
    void tableListsEveryTensor() {
        Run r = run("inspect", sample().toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("2 tensors, 24 bytes"), r.out());
        assertTrue(r.out().contains("format: pt"), r.out());
        assertTrue(
                r.out()
                        .lines()
                        .anyMatch(
                                l ->
                                        l.startsWith("a.bias")
                                                && l.contains("F32")
                                                && l.contains("[3]")
                                                && l.endsWith("12")),
                r.out());
    }

    @Test
    void shardedFolderNamesEachTensorsFile() throws Exception {
        Files.write(
                dir.resolve("model-00001-of-00002.safetensors"),
                SafetensorsWriter.create()
                        .add("x", DType.F32, new long[] {1}, RawFiles.f32(1))
                        .toByteArray());
        Files.write(
                dir.resolve("model-00002-of-00002.safetensors"),
                SafetensorsWriter.create()
                        .add("y", DType.F16, new long[] {2}, new byte[4])
                        .toByteArray());
        Files.writeString(
                dir.resolve("model.safetensors.index.json"),
                """
                {"metadata": {"total_size": 8}, "weight_map": {"x": "model-00001-of-00002.safetensors",
                 "y": "model-00002-of-00002.safetensors"}}\
                """);
        Run r = run("inspect", dir.toString(), "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode t = new ObjectMapper().readTree(r.out()).get("tensors");
        assertEquals("model-00001-of-00002.safetensors", t.get("x").get("file").asText());
        assertEquals("model-00002-of-00002.safetensors", t.get("y").get("file").asText());
        assertEquals("[0,4]", t.get("y").get("data_offsets").toString());
    }

    @Test
    void invalidFileIsOneLineWithItsKind() {
        Path p = RawFiles.write(dir, "bad.safetensors", RawFiles.withLength(60, new byte[0]));
        Run r = run("inspect", p.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("InvalidHeaderLength: "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertEquals("", r.out());
    }

    @Test
    void missingArgumentIsUsage() {
        assertEquals(2, run("inspect").exit());
    }
}
