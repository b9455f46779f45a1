package dev.safeload.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

/** The dtype table of docs/safetensors.md §1.3. */
class DTypeTest {
    @Test
    void twentyTwoTypesInReferenceOrderWithTheirBits() {
        List<String> names = Arrays.stream(DType.values()).map(DType::formatName).toList();
        assertEquals(
                List.of(
                        "BOOL",
                        "F4",
                        "F6_E2M3",
                        "F6_E3M2",
                        "U8",
                        "I8",
                        "F8_E5M2",
                        "F8_E4M3",
                        "F8_E8M0",
                        "F8_E4M3FNUZ",
                        "F8_E5M2FNUZ",
                        "I16",
                        "U16",
                        "F16",
                        "BF16",
                        "I32",
                        "U32",
                        "F32",
                        "C64",
                        "F64",
                        "I64",
                        "U64"),
                names);
        int[] bits = {8, 4, 6, 6, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64};
        for (DType d : DType.values()) {
            assertEquals(bits[d.ordinal()], d.bits(), d.formatName());
            assertEquals(d, DType.fromFormatName(d.formatName()));
        }
    }

    @Test
    void namesAreCaseSensitiveAndUnknownOnesNamed() {
        assertNull(DType.lookup("f32"));
        assertNull(DType.lookup("FP4"));
        SafetensorsException e =
                assertThrows(SafetensorsException.class, () -> DType.fromFormatName("E8M0"));
        assertEquals(SafetensorsError.InvalidHeaderDeserialization, e.kind());
        assertTrue(
                e.getMessage().contains("E8M0") && e.getMessage().contains("F8_E8M0"),
                e.getMessage());
    }

    @Test
    void byteSizesAreExactForSubByteTypes() {
        assertEquals(1, DType.F4.byteSize(2));
        assertEquals(3, DType.F6_E2M3.byteSize(4));
        assertEquals(0, DType.F6_E3M2.byteSize(0));
        assertEquals(
                SafetensorsError.MisalignedSlice,
                assertThrows(SafetensorsException.class, () -> DType.F4.byteSize(3)).kind());
        assertEquals(
                SafetensorsError.MisalignedSlice,
                assertThrows(SafetensorsException.class, () -> DType.F6_E2M3.byteSize(2)).kind());
        assertEquals(
                SafetensorsError.ValidationOverflow,
                assertThrows(SafetensorsException.class, () -> DType.F64.byteSize(1L << 60))
                        .kind());
        assertEquals(8L << 40, DType.C64.byteSize(1L << 40));
        assertThrows(IllegalArgumentException.class, () -> DType.U8.byteSize(-1));
    }

    @Test
    void kinds() {
        assertTrue(DType.F8_E8M0.isFloatingPoint());
        assertTrue(DType.F4.isSubByte());
        assertFalse(DType.C64.isFloatingPoint());
        assertTrue(DType.C64.isComplex());
        assertFalse(DType.BOOL.isInteger());
        assertTrue(DType.U16.isUnsigned() && DType.U16.isInteger());
        assertFalse(DType.I16.isUnsigned());
    }
}
