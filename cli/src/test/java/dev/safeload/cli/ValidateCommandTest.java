package dev.safeload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsWriter;
import dev.safeload.testing.RawFiles;
import dev.safeload.testing.ReferenceCases;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code safeload validate}: `PATH: KIND: message` per invalid file, the reference's kind names.
 */
class ValidateCommandTest {
    @TempDir Path dir;

    @Test
    void everyReferenceCaseReportsItsKind() {
        List<ReferenceCases.Case> cases =
                ReferenceCases.all().stream().filter(c -> c.bytes().length < 100_000).toList();
        List<String> args = new ArrayList<>(List.of("validate"));
        for (int i = 0; i < cases.size(); i++) {
            args.add(
                    RawFiles.write(dir, "case" + i + ".safetensors", cases.get(i).bytes())
                            .toString());
        }
        InspectCommandTest.Run r = InspectCommandTest.run(args.toArray(String[]::new));
        assertEquals(1, r.exit());
        List<String> out = r.out().lines().toList();
        List<String> err = r.err().lines().toList();
        assertEquals(cases.size(), out.size() + err.size(), r.err());
        for (int i = 0; i < cases.size(); i++) {
            ReferenceCases.Case c = cases.get(i);
            String path = dir.resolve("case" + i + ".safetensors").toString();
            if (c.kind() == null) {
                assertTrue(
                        out.contains(path + ": OK (" + c.tensors() + " tensors)"),
                        c.name() + "\n" + r.out());
            } else {
                String prefix = path + ": " + c.kind() + ": ";
                assertTrue(
                        err.stream()
                                .anyMatch(
                                        l -> l.startsWith(prefix) && l.length() > prefix.length()),
                        c.name() + "\n" + r.err());
            }
        }
    }

    @Test
    void allValidExitsZero() {
        Path a =
                RawFiles.write(
                        dir,
                        "a.safetensors",
                        SafetensorsWriter.create()
                                .add("t", DType.F32, new long[] {1}, RawFiles.f32(1))
                                .toByteArray());
        InspectCommandTest.Run r = InspectCommandTest.run("validate", a.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(a + ": OK (1 tensors)", r.out().strip());
    }

    @Test
    void shardedModelWithAnEscapingShardIsInvalidIndex() throws Exception {
        Files.writeString(
                dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"x\": \"../outside.safetensors\"}}");
        InspectCommandTest.Run r = InspectCommandTest.run("validate", dir.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith(dir + ": InvalidIndex: "), r.err());
    }

    @Test
    void missingFileIsReportedAndOthersStillChecked() {
        Path a = RawFiles.write(dir, "a.safetensors", SafetensorsWriter.create().toByteArray());
        InspectCommandTest.Run r =
                InspectCommandTest.run(
                        "validate", dir.resolve("nope.safetensors").toString(), a.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("nope.safetensors: Io: "), r.err());
        assertTrue(r.out().contains(a + ": OK (0 tensors)"), r.out());
    }
}
