package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Sharded models through {@code model.safetensors.index.json}, single files and folders. */
class SafetensorsModelTest {
    @TempDir Path dir;

    private void shards() throws Exception {
        SafetensorsWriter.create()
                .add("embed", DType.F32, new long[] {2}, RawFiles.f32(1, 2))
                .add("layer.0", DType.F32, new long[] {1}, RawFiles.f32(3))
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        SafetensorsWriter.create()
                .add("layer.1", DType.F32, new long[] {1}, RawFiles.f32(4))
                .add("unlisted", DType.U8, new long[] {1}, new byte[1])
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(
                dir.resolve(SafetensorsModel.INDEX_FILE),
                """
                {
                  "metadata": {"total_size": 16, "total_parameters": 4, "nested": {"x": [1, 2]}},
                  "weight_map": {
                    "layer.1": "model-00002-of-00002.safetensors",
                    "embed": "model-00001-of-00002.safetensors",
                    "layer.0": "model-00001-of-00002.safetensors"
                  }
                }\
                """);
    }

    @Test
    void indexOpensAsOneModel() throws Exception {
        shards();
        for (Path p : List.of(dir, dir.resolve(SafetensorsModel.INDEX_FILE))) {
            try (SafetensorsModel m = SafetensorsModel.open(p)) {
                assertTrue(m.isSharded());
                assertEquals(2, m.files().size());
                assertEquals(List.of("layer.1", "embed", "layer.0"), m.tensorNames());
                assertEquals(4.0f, m.tensor("layer.1").getFloat(0));
                assertEquals(2.0f, m.tensor("embed").getFloat(1));
                assertSame(m.fileOf("embed"), m.fileOf("layer.0"));
                assertEquals(
                        "model-00002-of-00002.safetensors",
                        m.fileOf("layer.1").path().getFileName().toString());
                assertFalse(
                        m.contains("unlisted"),
                        "only what the weight map lists is part of the model");
                TensorInfo info = m.info("layer.0");
                MemorySegment dst = MemorySegment.ofArray(new float[1]);
                m.fileOf("layer.0").readBytes(info, 0, dst);
                assertEquals(3.0f, dst.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 0));
            }
        }
    }

    @Test
    void closingTheModelUnmapsEveryShardOnce() throws Exception {
        shards();
        SafetensorsModel m = SafetensorsModel.open(dir);
        TensorView a = m.tensor("embed");
        TensorView b = m.tensor("layer.1");
        m.fileOf("embed").close(); // a shard belongs to the model: this does not unmap it
        assertEquals(1.0f, a.getFloat(0));
        m.close();
        m.close();
        assertThrows(IllegalStateException.class, () -> a.getFloat(0));
        assertThrows(IllegalStateException.class, () -> b.getFloat(0));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "../outside.safetensors",
                "/etc/passwd.safetensors",
                "a/../../x.safetensors",
                "..\\\\x.safetensors",
                "C:\\\\x.safetensors",
                "\\\\\\\\server\\\\share.safetensors",
                "model.bin",
                "",
                "sub/../../x.safetensors"
            })
    void shardsThatLeaveTheFolderAreRefused(String shard) throws Exception {
        Path inner = Files.createDirectories(dir.resolve("inner"));
        SafetensorsWriter.create()
                .add("x", DType.U8, new long[] {1}, new byte[1])
                .write(dir.resolve("outside.safetensors"));
        Files.writeString(
                inner.resolve(SafetensorsModel.INDEX_FILE),
                "{\"weight_map\": {\"x\": \"" + shard + "\"}}");
        SafetensorsException e =
                assertThrows(SafetensorsException.class, () -> SafetensorsModel.open(inner));
        assertEquals(SafetensorsError.InvalidIndex, e.kind(), e.getMessage());
    }

    @Test
    void shardsInSubfoldersAreFine() throws Exception {
        Files.createDirectories(dir.resolve("sub"));
        SafetensorsWriter.create()
                .add("x", DType.U8, new long[] {1}, new byte[] {9})
                .write(dir.resolve("sub/s.safetensors"));
        Files.writeString(
                dir.resolve("weights.safetensors.index.json"),
                "{\"weight_map\": {\"x\": \"sub/s.safetensors\"}}");
        try (SafetensorsModel m = SafetensorsModel.open(dir)) {
            assertEquals(9, m.tensor("x").getLong(0));
        }
    }

    @Test
    void malformedIndexesAreInvalidIndex() throws Exception {
        shards();
        Path index = dir.resolve(SafetensorsModel.INDEX_FILE);
        for (String json :
                List.of(
                        "[]",
                        "{\"metadata\": {}}",
                        "{\"weight_map\": {\"embed\": 5}}",
                        "{\"weight_map\": {\"embed\": \"model-00001-of-00002.safetensors\","
                                + " \"embed\": \"model-00001-of-00002.safetensors\"}}",
                        "{\"weight_map\": {\"layer.1\": \"model-00001-of-00002.safetensors\"}}",
                        "{\"weight_map\": {}} x",
                        "{")) {
            Files.writeString(index, json);
            SafetensorsException e =
                    assertThrows(
                            SafetensorsException.class, () -> SafetensorsModel.open(index), json);
            assertEquals(SafetensorsError.InvalidIndex, e.kind(), json + ": " + e.getMessage());
        }
    }

    @Test
    void missingOrInvalidShardReportsItsOwnKind() throws Exception {
        shards();
        Files.write(
                dir.resolve("model-00002-of-00002.safetensors"),
                RawFiles.withLength(1000, new byte[4]));
        SafetensorsException e =
                assertThrows(SafetensorsException.class, () -> SafetensorsModel.open(dir));
        assertEquals(SafetensorsError.InvalidHeaderLength, e.kind());
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertEquals(
                SafetensorsError.Io,
                assertThrows(SafetensorsException.class, () -> SafetensorsModel.open(dir)).kind());
    }

    @Test
    void singleFileAndFolderOfOneFile() throws Exception {
        Path file = dir.resolve("adapter_model.safetensors");
        SafetensorsWriter.create()
                .add("a", DType.F16, new long[] {1}, new byte[] {0, 0x3C})
                .write(file);
        for (Path p : List.of(file, dir)) {
            try (SafetensorsModel m = SafetensorsModel.open(p)) {
                assertFalse(m.isSharded());
                assertEquals(1.0f, m.tensor("a").getFloat(0));
                assertEquals(
                        SafetensorsError.TensorNotFound,
                        assertThrows(SafetensorsException.class, () -> m.tensor("b")).kind());
            }
        }
        SafetensorsWriter.create().write(dir.resolve("other.safetensors"));
        assertEquals(
                SafetensorsError.InvalidIndex,
                assertThrows(SafetensorsException.class, () -> SafetensorsModel.open(dir)).kind(),
                "two candidate files and no model.safetensors: ambiguous");
    }
}
