package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.testing.RawFiles;

import org.junit.jupiter.api.Test;

class MmapReaderTest extends AbstractReaderContractTest {
    @Override
    ReadOptions.Backend backend() {
        return ReadOptions.Backend.MMAP;
    }

    @Test
    void viewsAreSlicesOfOneMapping() {
        byte[] file =
                SafetensorsWriter.create()
                        .add("a", DType.F32, new long[] {2}, RawFiles.f32(1, 2))
                        .add("b", DType.F32, new long[] {1}, RawFiles.f32(3))
                        .toByteArray();
        try (SafetensorsFile f = open(RawFiles.write(dir, "m.safetensors", file))) {
            long base = f.dataSegment().address();
            assertEquals(base + f.info("b").begin(), f.tensor("b").segment().address());
            assertTrue(f.tensor("a").segment().isReadOnly());
            assertEquals(f.fileSize() - f.dataStart(), f.dataSegment().byteSize());
        }
    }
}
