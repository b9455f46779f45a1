package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.safeload.testing.RawFiles;
import org.junit.jupiter.api.Test;

class PreadReaderTest extends AbstractReaderContractTest {
    @Override
    ReadOptions.Backend backend() {
        return ReadOptions.Backend.PREAD;
    }

    @Test
    void hasNoDataSegment() {
        byte[] file = SafetensorsWriter.create().add("a", DType.F32, new long[] {2}, RawFiles.f32(1, 2)).toByteArray();
        try (SafetensorsFile f = open(RawFiles.write(dir, "p.safetensors", file))) {
            assertThrows(UnsupportedOperationException.class, f::dataSegment);
        }
    }
}
