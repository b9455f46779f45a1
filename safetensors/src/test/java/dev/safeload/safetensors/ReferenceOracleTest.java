package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.testing.PythonOracle;
import dev.safeload.testing.RawFiles;
import dev.safeload.testing.ReferenceCases;
import dev.safeload.testing.ReferenceReader;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The expected kinds in {@link ReferenceCases} are not taken on trust: the reference reader itself
 * (python safetensors) must report them, except for the documented deviations, where it must report
 * what the case says it does.
 */
class ReferenceOracleTest {
    @TempDir Path dir;

    @Test
    void theReferenceReaderAgreesWithEveryCase() {
        PythonOracle.assume("safetensors");
        List<ReferenceCases.Case> cases = ReferenceCases.all();
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            files.add(RawFiles.write(dir, "c" + i + ".safetensors", cases.get(i).bytes()));
        }
        List<String> outcomes = ReferenceReader.outcomes(files);
        assertEquals(cases.size(), outcomes.size());
        List<String> mismatches = new ArrayList<>();
        int deviations = 0;
        for (int i = 0; i < cases.size(); i++) {
            ReferenceCases.Case c = cases.get(i);
            String expected = c.referenceKind() == null ? "OK " + c.tensors() : c.referenceKind();
            if (!expected.equals(outcomes.get(i))) {
                mismatches.add(
                        c.name()
                                + ": reference says "
                                + outcomes.get(i)
                                + ", case says "
                                + expected);
            }
            deviations += c.deviation() ? 1 : 0;
        }
        assertTrue(mismatches.isEmpty(), String.join("\n", mismatches));
        assertEquals(
                4,
                deviations,
                "the documented deviations: duplicate names, array-form tensor, map-form dtype,"
                        + " dims >= 2^63");
    }
}
