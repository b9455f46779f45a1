package dev.safeload.cuda;

import dev.safeload.cuda.internal.driver.Driver;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A loaded PTX module ({@code cuModuleLoadData}: the driver JIT-compiles the PTX for the device,
 * and caches the result in {@code ~/.nv/ComputeCache}). Functions from it are valid until it is
 * closed.
 */
public final class CudaModule extends ContextResource {
    private final String name;
    private final CUmodule handle;
    private final Map<String, CUfunction> functions = new ConcurrentHashMap<>();

    private CudaModule(CudaContext context, String name, CUmodule handle) {
        super(context);
        this.name = name;
        this.handle = handle;
        register(toString());
    }

    static CudaModule load(CudaContext context, String name, String ptx) {
        context.makeCurrent();
        CUmodule module = new CUmodule();
        // The String overload appends the NUL terminator the driver needs (docs/lora.md §5.1).
        Driver.check(
                () -> JCudaDriver.cuModuleLoadData(module, ptx), "cuModuleLoadData(" + name + ")");
        return new CudaModule(context, name, module);
    }

    /** The kernel named {@code entry} (its {@code .entry} name in the PTX). */
    public CUfunction function(String entry) {
        ensureOpen();
        return functions.computeIfAbsent(
                entry,
                e -> {
                    context.makeCurrent();
                    CUfunction function = new CUfunction();
                    Driver.check(
                            () -> JCudaDriver.cuModuleGetFunction(function, handle, e),
                            "cuModuleGetFunction(" + name + ", " + e + ")");
                    return function;
                });
    }

    @Override
    void destroy() {
        Driver.check(() -> JCudaDriver.cuModuleUnload(handle), "cuModuleUnload(" + name + ")");
    }

    @Override
    public String toString() {
        return "CudaModule(" + name + ")";
    }
}
