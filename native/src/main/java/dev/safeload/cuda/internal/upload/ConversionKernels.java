package dev.safeload.cuda.internal.upload;

import dev.safeload.cuda.CudaContext;
import dev.safeload.cuda.CudaModule;
import dev.safeload.cuda.CudaStream;
import dev.safeload.cuda.internal.driver.Driver;

import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The conversion kernels of {@code convert.ptx} (generated from src/main/cuda/convert.cu by
 * native/build-ptx.sh), loaded into one context.
 */
public final class ConversionKernels implements AutoCloseable {
    /** The PTX resource, in the jar. */
    public static final String RESOURCE = "/dev/safeload/cuda/kernels/convert.ptx";

    private static final int BLOCK = 256;

    private final CudaModule module;
    private final int maxBlocks;

    public ConversionKernels(CudaContext context) {
        this.module = context.loadModule("convert.ptx", ptx());
        // Enough blocks to fill every SM several times over; the grid-stride loop covers the rest.
        this.maxBlocks = Math.max(1, context.device().multiprocessors() * 32);
    }

    /** The PTX text of the conversion kernels. */
    public static String ptx() {
        try (InputStream in = ConversionKernels.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(
                        "the jar lacks " + RESOURCE + "; rebuild it with native/build-ptx.sh");
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Enqueues the conversion of {@code elements} elements from device address {@code source} to
     * {@code target}.
     */
    public void launch(
            Conversion conversion, long source, long target, long elements, CudaStream stream) {
        if (elements == 0) {
            return;
        }
        int blocks = (int) Math.min(maxBlocks, (elements + BLOCK - 1) / BLOCK);
        // Kernel parameters by value: two pointers and an unsigned 64-bit count, as raw longs.
        Pointer parameters =
                Pointer.to(
                        Pointer.to(new long[] {source}),
                        Pointer.to(new long[] {target}),
                        Pointer.to(new long[] {elements}));
        stream.context().makeCurrent();
        Driver.check(
                () ->
                        JCudaDriver.cuLaunchKernel(
                                module.function(conversion.kernel()),
                                blocks,
                                1,
                                1,
                                BLOCK,
                                1,
                                1,
                                0,
                                stream.handle(),
                                parameters,
                                null),
                String.format(
                        Locale.ROOT,
                        "cuLaunchKernel(%s, %d elements)",
                        conversion.kernel(),
                        elements));
    }

    @Override
    public void close() {
        module.close();
    }
}
