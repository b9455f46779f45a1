package dev.safeload.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.safeload.safetensors.ReaderChoice;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsModel;
import dev.safeload.safetensors.TensorInfo;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code safeload inspect}: the header of a safetensors file or of a sharded model. */
@Command(
        name = "inspect",
        mixinStandardHelpOptions = true,
        description = {
            "Prints the metadata and the tensors (name, dtype, shape, byte range) of a .safetensors"
                    + " file, a sharded index (model.safetensors.index.json), or a folder holding"
                    + " either.",
            "With --json: {\"metadata\": {...} or null, \"reader\": {\"requested\", \"backend\","
                + " \"filesystem\"}, \"tensors\": {NAME: {\"dtype\", \"shape\", \"data_offsets\"[,"
                + " \"file\"]}}}; \"file\" (the shard) appears for sharded models, whose metadata"
                + " is the first shard's."
        })
final class InspectCommand implements Callable<Integer> {
    @Mixin ReaderOption reader;

    @Parameters(
            index = "0",
            paramLabel = "PATH",
            description = "A .safetensors file, an .index.json, or a folder.")
    Path path;

    @Option(names = "--json", description = "Print the header as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (SafetensorsModel model = SafetensorsModel.open(path, reader.options())) {
            PrintStream out = System.out;
            if (json) {
                out.println(
                        new ObjectMapper()
                                .enable(SerializationFeature.INDENT_OUTPUT)
                                .writeValueAsString(toJson(model)));
            } else {
                printTable(model, out);
            }
            out.flush();
        }
        return 0;
    }

    static ObjectNode toJson(SafetensorsModel model) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        SafetensorsFile first = model.files().isEmpty() ? null : model.files().getFirst();
        if (first != null && first.hasMetadata()) {
            ObjectNode meta = root.putObject("metadata");
            first.metadata().forEach(meta::put);
        } else {
            root.putNull("metadata");
        }
        if (first != null) {
            ReaderChoice choice = first.readerChoice();
            ObjectNode reader = root.putObject("reader");
            reader.put("requested", choice.requested().name().toLowerCase(Locale.ROOT));
            reader.put("backend", choice.backend().name().toLowerCase(Locale.ROOT));
            reader.put("filesystem", choice.filesystem());
        }
        ObjectNode tensors = root.putObject("tensors");
        Path folder = model.source().toAbsolutePath().normalize().getParent();
        for (TensorInfo t : model.tensors()) {
            ObjectNode n = tensors.putObject(t.name());
            n.put("dtype", t.dtype().formatName());
            ArrayNode shape = n.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            n.putArray("data_offsets").add(t.begin()).add(t.end());
            if (model.isSharded()) {
                n.put(
                        "file",
                        folder.relativize(
                                        model.fileOf(t.name()).path().toAbsolutePath().normalize())
                                .toString());
            }
        }
        return root;
    }

    private static void printTable(SafetensorsModel model, PrintStream out) {
        long bytes = 0;
        for (TensorInfo t : model.tensors()) {
            bytes += t.byteLength();
        }
        out.printf(
                Locale.ROOT,
                "%s: %d tensors, %d bytes of tensor data%s%n",
                model.source(),
                model.tensors().size(),
                bytes,
                model.isSharded() ? ", " + model.files().size() + " shards" : "");
        SafetensorsFile first = model.files().isEmpty() ? null : model.files().getFirst();
        if (first != null && first.hasMetadata()) {
            out.println("metadata:");
            for (Map.Entry<String, String> e : first.metadata().entrySet()) {
                out.printf(Locale.ROOT, "  %s: %s%n", e.getKey(), e.getValue());
            }
        }
        int width = 4;
        for (TensorInfo t : model.tensors()) {
            width = Math.max(width, Math.min(80, t.name().length()));
        }
        out.printf(
                Locale.ROOT,
                "%-" + width + "s  %-11s  %-20s  %s%n",
                "name",
                "dtype",
                "shape",
                "bytes");
        for (TensorInfo t : model.tensors()) {
            String file =
                    model.isSharded() ? "  " + model.fileOf(t.name()).path().getFileName() : "";
            out.printf(
                    Locale.ROOT,
                    "%-" + width + "s  %-11s  %-20s  %d%s%n",
                    t.name(),
                    t.dtype().formatName(),
                    Arrays.toString(t.shape()),
                    t.byteLength(),
                    file);
        }
    }
}
