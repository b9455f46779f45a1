package dev.safeload.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The probe never throws, and its answer is consistent with what the rest of the API does. */
class CudaAvailabilityTest {
    @Test
    void probeAnswersWithoutThrowingAndAgreesWithRequire() {
        boolean available = Cuda.isAvailable();
        assertEquals(!available, Cuda.unavailableReason().isPresent());
        if (available) {
            Cuda.require();
            assertFalse(Cuda.devices().isEmpty());
            assertTrue(Cuda.driverVersion() >= 12000, "driver " + Cuda.driverVersion());
        } else {
            CudaException e = assertThrows(CudaException.class, Cuda::require);
            assertEquals(CudaError.CUDA_UNAVAILABLE, e.kind());
            assertTrue(e.getMessage().startsWith("CUDA is not available: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
            // Every entry point gives the same single error, not a linkage error from JCuda.
            assertEquals(
                    CudaError.CUDA_UNAVAILABLE,
                    assertThrows(CudaException.class, Cuda::devices).kind());
            assertEquals(
                    CudaError.CUDA_UNAVAILABLE,
                    assertThrows(CudaException.class, () -> CudaContext.open(0)).kind());
        }
    }

    @Test
    void driverResultsMapToTheirCudaHNames() {
        assertEquals(CudaError.CUDA_ERROR_OUT_OF_MEMORY, CudaError.ofDriverResult(2));
        assertEquals(CudaError.CUDA_ERROR_NO_DEVICE, CudaError.ofDriverResult(100));
        assertEquals(CudaError.CUDA_ERROR_UNSUPPORTED_PTX_VERSION, CudaError.ofDriverResult(222));
        assertEquals(CudaError.CUDA_ERROR_UNRECOGNIZED, CudaError.ofDriverResult(4242));
        assertEquals(CudaError.CUBLAS_STATUS_NOT_SUPPORTED, CudaError.ofCublasStatus(15));
    }

    @Test
    void cublasProbeNeverThrowsAndExplainsItself() {
        if (!Cublas.isAvailable()) {
            String reason = Cublas.unavailableReason().orElseThrow();
            assertTrue(reason.contains("safeload.cublas.library"), reason);
            assertEquals(
                    CudaError.CUBLAS_UNAVAILABLE,
                    assertThrows(CudaException.class, Cublas::load).kind());
        } else {
            assertTrue(Cublas.load().version().matches("\\d+\\.\\d+\\.\\d+"));
        }
    }

    @Test
    void gemmOperandExtentsAreCheckedAgainstTheBuffer() {
        // 3x4 column-major F16 with ld 3 needs (4-1)*3+3 = 12 elements = 24 bytes.
        CublasHandle.checkExtent("A", CudaDataType.R_16F, 3, 24, 3, 4, 0, 1);
        IllegalArgumentException small =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> CublasHandle.checkExtent("A", CudaDataType.R_16F, 3, 23, 3, 4, 0, 1));
        assertTrue(small.getMessage().contains("needs 24 bytes"), small.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> CublasHandle.checkExtent("C", CudaDataType.R_32F, 2, 1 << 20, 3, 4, 0, 1));
        // Batched: 5 matrices 12 elements apart: 4*12 + 12 = 60 elements.
        CublasHandle.checkExtent("B", CudaDataType.R_32F, 3, 240, 3, 4, 12, 5);
        assertThrows(
                IllegalArgumentException.class,
                () -> CublasHandle.checkExtent("B", CudaDataType.R_32F, 3, 236, 3, 4, 12, 5));
    }
}
