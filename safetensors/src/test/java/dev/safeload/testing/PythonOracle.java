package dev.safeload.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs the Python reference implementations (safetensors, numpy, huggingface_hub) as test oracles.
 * {@code .ci/run} installs them; where they are missing, tests that need them are skipped through
 * {@link #assume(String...)}, visibly, rather than passing.
 *
 * <p>The PyTorch oracles (torch, transformers, peft) run through {@link #assumeTorch} and {@link
 * #runTorch}, with the interpreter named by {@value #TORCH_PYTHON} when it is set: transformers
 * pins {@code huggingface_hub<2}, so {@code .ci/run} gives them their own virtual environment and
 * the hub interop tests keep the current huggingface_hub.
 */
public final class PythonOracle {
    /** Environment variable naming the Python interpreter that has torch, transformers and peft. */
    public static final String TORCH_PYTHON = "SAFELOAD_TORCH_PYTHON";

    private static final String PYTHON = "python3";
    private static final Map<String, Boolean> AVAILABLE = new ConcurrentHashMap<>();

    private PythonOracle() {}

    /** The outcome of one python3 run. */
    public record Result(int exitCode, String stdout, String stderr) {
        /** Throws with the captured stderr unless the run exited 0. */
        public Result orThrow() {
            if (exitCode != 0) {
                throw new AssertionError(
                        "python3 exited " + exitCode + ":\n" + stderr + "\nstdout:\n" + stdout);
            }
            return this;
        }
    }

    /** Whether python3 can import every one of {@code modules}. Cached per module set. */
    public static boolean available(String... modules) {
        return available(PYTHON, modules);
    }

    private static boolean available(String python, String... modules) {
        String key = python + ":" + String.join(",", modules);
        return AVAILABLE.computeIfAbsent(
                key,
                k -> {
                    try {
                        return run(
                                                python,
                                                "import " + String.join(",", modules),
                                                List.of(),
                                                Map.of(),
                                                60)
                                        .exitCode()
                                == 0;
                    } catch (RuntimeException e) {
                        return false;
                    }
                });
    }

    /** Skips the calling test (reported as skipped) unless python3 can import every module. */
    public static void assume(String... modules) {
        Assumptions.assumeTrue(
                available(modules),
                "python3 with "
                        + String.join(", ", modules)
                        + " is not installed "
                        + "(python3 -m pip install safetensors numpy huggingface_hub)");
    }

    /** The interpreter for the PyTorch oracles: {@value #TORCH_PYTHON}, or python3. */
    static String torchPython() {
        String configured = System.getenv(TORCH_PYTHON);
        return configured == null || configured.isBlank() ? PYTHON : configured.trim();
    }

    /** As {@link #assume}, for the PyTorch oracles' interpreter. */
    public static void assumeTorch(String... modules) {
        Assumptions.assumeTrue(
                available(torchPython(), modules),
                torchPython()
                        + " with "
                        + String.join(", ", modules)
                        + " is not installed (python3 -m pip install torch transformers peft"
                        + " safetensors, or name a virtual environment's python with "
                        + TORCH_PYTHON
                        + ")");
    }

    /** As {@link #run(String, List)}, with the PyTorch oracles' interpreter. */
    public static Result runTorch(String code, List<String> args) {
        return run(torchPython(), code, args, Map.of(), 300);
    }

    /** Runs {@code code} with {@code python3 -c}, passing {@code args} as {@code sys.argv[1:]}. */
    public static Result run(String code, List<String> args) {
        return run(code, args, Map.of(), 300);
    }

    /** As {@link #run(String, List)}, with extra environment variables and a timeout in seconds. */
    public static Result run(
            String code, List<String> args, Map<String, String> env, long timeoutSeconds) {
        return run(PYTHON, code, args, env, timeoutSeconds);
    }

    private static Result run(
            String python,
            String code,
            List<String> args,
            Map<String, String> env,
            long timeoutSeconds) {
        List<String> command = new ArrayList<>(List.of(python, "-c", code));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("python3 did not finish within " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start python3", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try (in) {
                        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }
}
