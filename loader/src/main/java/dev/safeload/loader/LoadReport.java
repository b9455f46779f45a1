package dev.safeload.loader;

import java.util.List;
import java.util.Objects;

/**
 * What loading a model did: where it came from, where it is now, and each stage's time and bytes.
 *
 * @param source the resolved model
 * @param device where the model is placed
 * @param tensors the tensors placed
 * @param bytes their bytes in the files
 * @param bytesCopied bytes the placement copied from the files into the model's memory, counted as
 *     they were copied (each byte once: equal to {@code bytes} for a whole model)
 * @param stages the stages run, in order (resolve, open, place)
 */
public record LoadReport(
        ResolvedModel source,
        Device device,
        int tensors,
        long bytes,
        long bytesCopied,
        List<StageTiming> stages) {
    /**
     * Checks the parts.
     *
     * @param source the resolved model
     * @param device the device
     * @param tensors the tensor count
     * @param bytes the bytes in the files
     * @param bytesCopied the bytes copied
     * @param stages the stages (copied)
     */
    public LoadReport {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(device, "device");
        stages = List.copyOf(stages);
    }

    /**
     * The timing of one stage.
     *
     * @param stage the stage
     * @return its timing
     * @throws IllegalArgumentException if the stage did not run
     */
    public StageTiming stage(LoadStage stage) {
        return stages.stream()
                .filter(s -> s.stage() == stage)
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(stage + " did not run"));
    }
}
