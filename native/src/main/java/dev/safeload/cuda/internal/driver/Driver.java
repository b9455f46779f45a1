package dev.safeload.cuda.internal.driver;

import dev.safeload.cuda.CudaError;
import dev.safeload.cuda.CudaException;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The one place where a driver API result becomes an exception. JCuda returns {@code CUresult}
 * codes unless its global {@code setExceptionsEnabled} switch is on; that switch is process-wide
 * and other code (a user's own JCuda code) may set it either way, so every call goes through {@link
 * #call} or {@link #check(IntSupplier, String)}, which turn JCuda's exception back into the result
 * code (docs/DESIGN.md "Errors").
 */
public final class Driver {
    private Driver() {}

    /**
     * CUresult names back to codes: JCuda's exception carries only {@code
     * CUresult.stringFor(code)}.
     */
    private static final class Codes {
        static final Map<String, Integer> BY_NAME = byName();

        private static Map<String, Integer> byName() {
            Map<String, Integer> names = new HashMap<>();
            for (int code = 0; code < 1100; code++) {
                String name = CUresult.stringFor(code);
                if (!name.startsWith("INVALID CUresult")) {
                    names.put(name, code);
                }
            }
            return Map.copyOf(names);
        }
    }

    /**
     * Runs a driver call and returns its result code, also where the process has JCuda's exceptions
     * switched on ({@code JCudaDriver.setExceptionsEnabled(true)}): expected codes such as {@code
     * CUDA_ERROR_NOT_READY} or {@code CUDA_ERROR_OUT_OF_MEMORY} must reach our own handling.
     */
    public static int call(IntSupplier driverCall) {
        try {
            return driverCall.getAsInt();
        } catch (jcuda.CudaException e) {
            return Codes.BY_NAME.getOrDefault(
                    String.valueOf(e.getMessage()).trim(), CUresult.CUDA_ERROR_UNKNOWN);
        }
    }

    /** {@link #call} then {@link #check(int, String)}. */
    public static void check(IntSupplier driverCall, String call) {
        check(call(driverCall), call);
    }

    /**
     * Throws a {@link CudaException} naming {@code call} unless {@code result} is {@code
     * CUDA_SUCCESS}.
     */
    public static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw failure(result, call, "");
        }
    }

    /** The exception for a failed driver call, with {@code advice} appended to the message. */
    public static CudaException failure(int result, String call, String advice) {
        CudaError kind = CudaError.ofDriverResult(result);
        String message =
                String.format(
                        Locale.ROOT,
                        "%s failed: %s (%d): %s%s",
                        call,
                        errorName(result, kind),
                        result,
                        errorText(result),
                        advice.isEmpty() ? "" : "; " + advice);
        return new CudaException(kind, result, call, message, null);
    }

    private static String errorName(int result, CudaError kind) {
        if (kind != CudaError.CUDA_ERROR_UNRECOGNIZED) {
            return kind.name();
        }
        String[] name = new String[1];
        try {
            return JCudaDriver.cuGetErrorName(result, name) == CUresult.CUDA_SUCCESS
                            && name[0] != null
                    ? name[0]
                    : "CUDA_ERROR_" + result;
        } catch (LinkageError e) {
            return "CUDA_ERROR_" + result;
        }
    }

    private static String errorText(int result) {
        String[] text = new String[1];
        try {
            return JCudaDriver.cuGetErrorString(result, text) == CUresult.CUDA_SUCCESS
                            && text[0] != null
                    ? text[0]
                    : "no description from the driver";
        } catch (LinkageError e) {
            return "no description (JCuda's natives are not loaded)";
        }
    }
}
