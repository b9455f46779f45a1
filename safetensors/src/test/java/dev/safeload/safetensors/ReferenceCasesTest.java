package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.testing.RawFiles;
import dev.safeload.testing.ReferenceCases;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Every case of docs/safetensors.md §2, through memory and through both file backends. */
class ReferenceCasesTest {
    private static final List<ReferenceCases.Case> CASES = ReferenceCases.all();

    @TempDir static Path dir;

    static Stream<Arguments> cases() {
        return CASES.stream()
                .flatMap(
                        c ->
                                Stream.of(
                                        Arguments.of(c, null),
                                        Arguments.of(c, ReadOptions.Backend.MMAP),
                                        Arguments.of(c, ReadOptions.Backend.PREAD)));
    }

    @ParameterizedTest(name = "{0} [{1}]")
    @MethodSource("cases")
    void reportsTheReferenceKind(ReferenceCases.Case c, ReadOptions.Backend backend) {
        if (c.kind() == null) {
            assertEquals(c.tensors(), read(c, backend).tensors().size());
            return;
        }
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> read(c, backend));
        assertEquals(c.kind(), e.kind().name(), e.getMessage());
        assertTrue(
                e.getMessage().length() > 10,
                "a message that says what is wrong: " + e.getMessage());
    }

    private static SafetensorsHeader read(ReferenceCases.Case c, ReadOptions.Backend backend) {
        if (backend == null) {
            return SafetensorsHeader.read(c.bytes());
        }
        Path p =
                RawFiles.write(
                        dir,
                        "case-" + Math.abs(c.name().hashCode()) + "-" + backend + ".safetensors",
                        c.bytes());
        try (SafetensorsFile f = SafetensorsFile.open(p, ReadOptions.of(backend))) {
            return f.header();
        }
    }
}
