package dev.safeload.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The reference reader (python safetensors, whose {@code deserialize} runs the Rust {@code
 * read_metadata}) as an oracle: the error kind it reports for each file, or {@code OK n} with its
 * tensor count. Its messages are the Rust {@code Display} texts, mapped back to the variant names
 * here.
 */
public final class ReferenceReader {
    private static final String SCRIPT =
            """
            import sys, safetensors
            KINDS = [("header too small", "HeaderTooSmall"), ("header too large", "HeaderTooLarge"),
                     ("invalid header length", "InvalidHeaderLength"), ("invalid UTF-8 in header", "InvalidHeader"),
                     ("invalid JSON in header", "InvalidHeaderDeserialization"), ("invalid offset for tensor", "InvalidOffset"),
                     ("invalid shape, data type, or offset", "TensorInvalidInfo"),
                     ("incomplete metadata", "MetadataIncompleteBuffer"), ("overflow computing", "ValidationOverflow"),
                     ("slicing for subbytes", "MisalignedSlice")]
            for path in sys.argv[1:]:
                data = open(path, "rb").read()
                try:
                    print("OK", len(safetensors.deserialize(data)))
                except Exception as e:
                    text = str(e)
                    print(next((k for m, k in KINDS if m in text), "UNKNOWN " + text.replace("\\n", " ")[:200]))
            """;

    private ReferenceReader() {}

    /** One line per file: an error kind name or {@code OK <tensor count>}. */
    public static List<String> outcomes(List<Path> files) {
        List<String> args = new ArrayList<>();
        for (Path p : files) {
            args.add(p.toString());
        }
        String out = PythonOracle.run(SCRIPT, args, Map.of(), 600).orThrow().stdout();
        return out.lines().toList();
    }
}
