package dev.safeload.lora;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds backends: by name through {@link ServiceLoader}, or the CPU one directly. */
public final class LoraBackends {
    private LoraBackends() {}

    /** The CPU reference backend with one thread per processor. */
    public static LoraBackend cpu() {
        return new CpuLoraBackend();
    }

    /**
     * The backend called {@code name} ({@code cpu}, {@code cuda}); a clear error if it is missing
     * or unusable here.
     */
    public static LoraBackend open(String name) {
        List<String> known = new ArrayList<>();
        for (LoraBackendProvider p :
                ServiceLoader.load(
                        LoraBackendProvider.class, LoraBackends.class.getClassLoader())) {
            known.add(p.name());
            if (p.name().equals(name)) {
                if (!p.available()) {
                    throw LoraException.of(
                            LoraError.BackendUnavailable,
                            "LoRA backend %s is not usable on this machine (no CUDA device or no"
                                    + " cuBLAS); use --device cpu",
                            name);
                }
                return p.open();
            }
        }
        throw LoraException.of(
                LoraError.BackendUnavailable, "no LoRA backend called %s (known: %s)", name, known);
    }

    /** Names of the backends usable here, best first ({@code cuda} before {@code cpu}). */
    public static List<String> available() {
        List<String> names = new ArrayList<>();
        for (LoraBackendProvider p :
                ServiceLoader.load(
                        LoraBackendProvider.class, LoraBackends.class.getClassLoader())) {
            if (p.available()) {
                names.add(p.name());
            }
        }
        names.sort((a, b) -> a.equals("cuda") ? -1 : b.equals("cuda") ? 1 : a.compareTo(b));
        return names;
    }

    /** The provider for the CPU backend (registered in META-INF/services). */
    public static final class CpuProvider implements LoraBackendProvider {
        @Override
        public String name() {
            return "cpu";
        }

        @Override
        public boolean available() {
            return true;
        }

        @Override
        public LoraBackend open() {
            return new CpuLoraBackend();
        }
    }
}
