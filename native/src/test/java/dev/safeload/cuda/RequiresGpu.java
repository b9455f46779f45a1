package dev.safeload.cuda;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.condition.EnabledIf;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class that needs a CUDA device: tagged {@code gpu}, and disabled as a whole (no
 * constructor, no {@code @BeforeAll}) where {@link GpuProbe#available()} is false, so it is
 * reported as skipped rather than missing (docs/BUILD.md "GPU tests"). With {@code
 * -Dsafeload.gpu.required=true} (the GPU machine's run) the tests run regardless and fail loudly if
 * the driver is broken, instead of skipping everything.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("gpu")
@EnabledIf(
        value = "dev.safeload.cuda.GpuProbe#available",
        disabledReason = "no CUDA device (see Cuda.unavailableReason())")
public @interface RequiresGpu {}
