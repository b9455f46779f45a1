package dev.safeload.testing;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A seeded, structure-aware mutator of safetensors files: it edits the header JSON where the rules
 * live (numbers, dtype names, field names, brackets, escapes, duplicated entries) and keeps the
 * length prefix and data size consistent most of the time, so mutants get past the first checks;
 * now and then it flips raw bytes anywhere, truncates or extends. Deterministic for a seed.
 */
public final class HeaderMutator {
    private static final String[] NUMBERS = {
        "0",
        "-0",
        "1",
        "2",
        "3",
        "4",
        "8",
        "16",
        "24",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775807",
        "9223372036854775808",
        "4294967296",
        "1e0",
        "1.0",
        "-1",
        "01",
        "1e999",
        "99999999999999999999",
        "0.5"
    };
    private static final String[] DTYPES = {
        "BOOL",
        "F4",
        "F6_E2M3",
        "F6_E3M2",
        "U8",
        "I8",
        "F8_E5M2",
        "F8_E4M3",
        "F8_E8M0",
        "F8_E4M3FNUZ",
        "F8_E5M2FNUZ",
        "I16",
        "U16",
        "F16",
        "BF16",
        "I32",
        "U32",
        "F32",
        "C64",
        "F64",
        "I64",
        "U64",
        "f32",
        "F128",
        "FP4",
        "",
        "E8M0"
    };
    private static final String[] INSERTS = {
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\\",
        " ",
        "\n",
        "0",
        "a",
        "-",
        "\\u0000",
        "\\ud800",
        "\\ud83d\\ude00",
        "\u00e9",
        "null",
        "true",
        "\"x\":1,",
        "\"__metadata__\":{},",
        "\"dtype\":\"U8\","
    };
    private static final String[] FIELDS = {
        "dtype", "shape", "data_offsets", "__metadata__", "dtypes", "Shape", ""
    };
    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");
    private static final Pattern DTYPE = Pattern.compile("\"dtype\":\"([A-Z0-9_]*)\"");
    private static final Pattern FIELD =
            Pattern.compile("\"(dtype|shape|data_offsets|__metadata__)\"");

    private final Random random;
    private final List<String> seeds;

    public HeaderMutator(long seed, List<String> seedHeaders) {
        this.random = new Random(seed);
        this.seeds = seedHeaders;
    }

    /** The next mutant file. */
    public byte[] next() {
        String h = seeds.get(random.nextInt(seeds.size()));
        int edits = 1 + random.nextInt(3);
        for (int i = 0; i < edits; i++) {
            h = mutate(h);
        }
        byte[] file = FuzzFiles.toFile(FuzzFiles.encodeHeader(h.getBytes(StandardCharsets.UTF_8)));
        if (random.nextInt(8) == 0) {
            file = mutateRaw(file);
        }
        return file;
    }

    private String mutate(String h) {
        switch (random.nextInt(8)) {
            case 0 -> {
                return replaceMatch(
                        h, NUMBER.matcher(h), NUMBERS[random.nextInt(NUMBERS.length)], 0);
            }
            case 1 -> {
                return replaceMatch(h, DTYPE.matcher(h), DTYPES[random.nextInt(DTYPES.length)], 1);
            }
            case 2 -> {
                return replaceMatch(h, FIELD.matcher(h), FIELDS[random.nextInt(FIELDS.length)], 1);
            }
            case 3 -> {
                if (h.isEmpty()) {
                    return h;
                }
                int at = random.nextInt(h.length());
                return h.substring(0, at) + h.substring(at + 1);
            }
            case 4 -> {
                int at = random.nextInt(h.length() + 1);
                return h.substring(0, at)
                        + INSERTS[random.nextInt(INSERTS.length)]
                        + h.substring(at);
            }
            case 5 -> {
                // Duplicate an entry-sized chunk: duplicate keys, repeated fields, aliasing
                // offsets.
                int a = random.nextInt(h.length() + 1);
                int b = Math.min(h.length(), a + random.nextInt(80));
                int at = random.nextInt(h.length() + 1);
                return h.substring(0, at) + h.substring(a, b) + h.substring(at);
            }
            case 6 -> {
                return random.nextBoolean() ? " \t" + h + "\r\n" : "[" + h + "]";
            }
            default -> {
                // Nest a value deeply inside an unknown field.
                int depth = 120 + random.nextInt(10);
                return h.replaceFirst(
                        "\"data_offsets\"",
                        "\"x\":" + "[".repeat(depth) + "]".repeat(depth) + ",\"data_offsets\"");
            }
        }
    }

    private String replaceMatch(String h, Matcher m, String with, int group) {
        int count = 0;
        while (m.find()) {
            count++;
        }
        if (count == 0) {
            return h;
        }
        int pick = random.nextInt(count);
        m.reset();
        for (int i = 0; i <= pick; i++) {
            m.find();
        }
        return h.substring(0, m.start(group)) + with + h.substring(m.end(group));
    }

    private byte[] mutateRaw(byte[] file) {
        byte[] f = file.clone();
        switch (random.nextInt(3)) {
            case 0 -> {
                if (f.length > 0) {
                    int at = random.nextInt(f.length);
                    f[at] ^= (byte) (1 << random.nextInt(8));
                }
                return f;
            }
            case 1 -> {
                return java.util.Arrays.copyOf(f, random.nextInt(f.length + 1));
            }
            default -> {
                return java.util.Arrays.copyOf(f, f.length + 1 + random.nextInt(16));
            }
        }
    }
}
