package dev.safeload.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Every malformed and edge-case input of docs/safetensors.md §2 (the reference's own tests in
 * {@code tensor.rs}, its attack scripts and the probes of its HEAD source), with the kind the
 * reference reader reports and the kind safeload reports. The two differ only where safeload is
 * deliberately stricter ({@link Case#deviation()}).
 */
public final class ReferenceCases {
    private ReferenceCases() {}

    /** Expected outcome: {@code null} kind means the file is valid with {@code tensors} tensors. */
    public record Case(String name, byte[] bytes, String kind, String referenceKind, int tensors) {
        public boolean deviation() {
            return !java.util.Objects.equals(kind, referenceKind);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static final String I32_2X2 =
            "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";

    public static List<Case> all() {
        List<Case> c = new ArrayList<>();
        // 2.1 Rust unit tests (safetensors/src/tensor.rs)
        err(c, "test_header_too_small: empty", new byte[0], "HeaderTooSmall");
        err(
                c,
                "test_invalid_header_length: N=60, nothing else",
                RawFiles.withLength(60, new byte[0]),
                "InvalidHeaderLength");
        byte[] tooLarge = RawFiles.of(I32_2X2, new byte[16]);
        System.arraycopy(
                new byte[] {0x3C, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF},
                0,
                tooLarge,
                0,
                8);
        err(c, "test_header_too_large: N=3C 00 00 00 00 FF FF FF", tooLarge, "HeaderTooLarge");
        err(
                c,
                "test_invalid_header_non_utf8: N=1, FF",
                RawFiles.withLength(1, new byte[] {(byte) 0xFF}),
                "InvalidHeader");
        err(c, "test_invalid_header_not_json: N=1, {", file("{"), "InvalidHeaderDeserialization");
        ok(c, "test_whitespace_padded_header", file("{}\r \t\n"), 0);
        ok(c, "test_whitespace_leading_padded_header", file("\t\n{}\r "), 0);
        ok(c, "test_deserialization: I32 [2,2] zeros", RawFiles.of(I32_2X2, new byte[16]), 1);
        ok(
                c,
                "test_empty_shapes_allowed: scalar",
                file("{\"test\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
                1);
        ok(
                c,
                "test_zero_sized_tensor: [2,0] at [0, 0]",
                file("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":[0, 0]}}"),
                1);
        err(
                c,
                "test_invalid_info: [2,2] at [0, 4], no data",
                file("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0, 4]}}"),
                "TensorInvalidInfo");
        err(
                c,
                "test_validation_overflow (a): [2, 2^64-2]",
                file(
                        "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,18446744073709551614],\"data_offsets\":[0,16]}}",
                        16),
                "ValidationOverflow");
        err(
                c,
                "test_validation_overflow (b): [2, 2^63-1]",
                file(
                        "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,9223372036854775807],\"data_offsets\":[0,16]}}",
                        16),
                "ValidationOverflow");
        err(
                c,
                "test_metadata_incomplete_buffer (a): polyglot trailing bytes",
                RawFiles.of(
                        I32_2X2,
                        RawFiles.concat(
                                new byte[16],
                                "extra_bogus_data_for_polyglot_file"
                                        .getBytes(StandardCharsets.UTF_8))),
                "MetadataIncompleteBuffer");
        err(
                c,
                "test_metadata_incomplete_buffer (b): 14 of 16 data bytes",
                RawFiles.of(I32_2X2, new byte[14]),
                "MetadataIncompleteBuffer");
        StringBuilder attack = new StringBuilder("{");
        for (int i = 0; i < 10; i++) {
            attack.append(i == 0 ? "" : ",")
                    .append("\"weight_")
                    .append(i)
                    .append("\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}");
        }
        err(
                c,
                "test_json_attack: 10 tensors aliasing [0,16]",
                file(attack.append('}').toString(), 16),
                "InvalidOffset");

        // 2.3 python tests (test_pread_backend.py): a truncated file and a lying header
        byte[] whole = RawFiles.of(I32_2X2, new byte[16]);
        err(
                c,
                "truncated file: prefix + half the header",
                java.util.Arrays.copyOf(whole, 8 + 30),
                "InvalidHeaderLength");
        err(
                c,
                "lying header: 4 MiB F32 tensor, 1 data byte",
                file(
                        "{\"liar\":{\"dtype\":\"F32\",\"shape\":[1024,1024],\"data_offsets\":[0,4194304]}}",
                        1),
                "MetadataIncompleteBuffer");
        ok(
                c,
                "metadata + tensor, 7 trailing spaces, N=94 (N need not be a multiple of 8)",
                file(
                        "{\"__metadata__\":{\"framework\":\"pt\"},\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}"
                                .concat("       "),
                        2),
                1);

        // 2.4 attack scripts
        byte[] liar = RawFiles.of(I32_2X2, new byte[16]);
        System.arraycopy(RawFiles.withLength(1000, new byte[0]), 0, liar, 0, 8);
        err(c, "attack 1: N overwritten to 1000", liar, "InvalidHeaderLength");
        err(
                c,
                "attack 2: header of hundreds of MB",
                RawFiles.withLength(400_000_000L, "{\"a\":".getBytes(StandardCharsets.UTF_8)),
                "HeaderTooLarge");
        StringBuilder dos = new StringBuilder("{");
        for (int i = 0; i < 100_000; i++) {
            dos.append(i == 0 ? "" : ",")
                    .append("\"t")
                    .append(i)
                    .append(
                            "\":{\"dtype\":\"F32\",\"shape\":[200,200],\"data_offsets\":[0,160000]}");
        }
        err(
                c,
                "attack 3: 100,000 tensors aliasing [0,160000]",
                file(dos.append('}').toString(), 160_000),
                "InvalidOffset");

        // 2.5 probes of the reference's HEAD source
        err(c, "7 bytes", new byte[7], "HeaderTooSmall");
        err(
                c,
                "N=0, nothing else",
                RawFiles.withLength(0, new byte[0]),
                "InvalidHeaderDeserialization");
        ok(c, "N=2 {} (smallest valid file)", file("{}"), 0);
        err(c, "{} + 1 extra byte", file("{}", 1), "MetadataIncompleteBuffer");
        err(
                c,
                "N=100,000,001",
                RawFiles.withLength(100_000_001L, "{}".getBytes(StandardCharsets.UTF_8)),
                "HeaderTooLarge");
        err(
                c,
                "N=100,000,000 with a short buffer",
                RawFiles.withLength(100_000_000L, "{}".getBytes(StandardCharsets.UTF_8)),
                "InvalidHeaderLength");
        err(
                c,
                "N=u64::MAX",
                RawFiles.withLength(-1L, "{}".getBytes(StandardCharsets.UTF_8)),
                "HeaderTooLarge");
        err(c, "header []", file("[]"), "InvalidHeaderDeserialization");
        err(c, "header null", file("null"), "InvalidHeaderDeserialization");
        err(c, "header \"abc\"", file("\"abc\""), "InvalidHeaderDeserialization");
        err(
                c,
                "{} + NUL padding",
                RawFiles.of(new byte[] {'{', '}', 0, 0, 0, 0, 0, 0}, new byte[0]),
                "InvalidHeaderDeserialization");
        err(c, "{}x", file("{}x"), "InvalidHeaderDeserialization");
        err(
                c,
                "UTF-8 BOM + {}",
                RawFiles.of(
                        new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '}'}, new byte[0]),
                "InvalidHeaderDeserialization");
        ok(c, "N not a multiple of 8", file("{}   "), 0);
        String t = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        deviation(
                c,
                "duplicate tensor key (reference: last wins; safeload refuses)",
                file("{\"t\":" + t + ",\"t\":" + t + "}", 1),
                "InvalidHeaderDeserialization",
                null);
        err(
                c,
                "duplicate __metadata__",
                file("{\"__metadata__\":{},\"__metadata__\":{}}"),
                "InvalidHeaderDeserialization");
        ok(c, "__metadata__ only", file("{\"__metadata__\":{\"a\":\"b\"}}"), 0);
        ok(c, "__metadata__ null", file("{\"__metadata__\":null}"), 0);
        ok(c, "__metadata__ {}", file("{\"__metadata__\":{}}"), 0);
        err(
                c,
                "__metadata__ value int",
                file("{\"__metadata__\":{\"a\":1}}"),
                "InvalidHeaderDeserialization");
        err(
                c,
                "__metadata__ value object",
                file("{\"__metadata__\":{\"a\":{}}}"),
                "InvalidHeaderDeserialization");
        err(
                c,
                "__metadata__ value null",
                file("{\"__metadata__\":{\"a\":null}}"),
                "InvalidHeaderDeserialization");
        err(
                c,
                "__metadata__ is a string",
                file("{\"__metadata__\":\"a\"}"),
                "InvalidHeaderDeserialization");
        err(
                c,
                "__METADATA__ is a tensor name without dtype",
                file("{\"__METADATA__\":{}}"),
                "InvalidHeaderDeserialization");
        err(
                c,
                "unknown dtype F128",
                file(tensor("F128", "[1]", "[0,1]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "lowercase dtype f32",
                file(tensor("f32", "[1]", "[0,4]"), 4),
                "InvalidHeaderDeserialization");
        err(
                c,
                "dtype as number",
                file("{\"t\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
                "InvalidHeaderDeserialization");
        ok(c, "F8_E4M3FNUZ", file(tensor("F8_E4M3FNUZ", "[2]", "[0,2]"), 2), 1);
        ok(c, "F8_E8M0", file(tensor("F8_E8M0", "[2]", "[0,2]"), 2), 1);
        ok(c, "C64", file(tensor("C64", "[2]", "[0,16]"), 16), 1);
        ok(c, "F4 [2] in 1 byte", file(tensor("F4", "[2]", "[0,1]"), 1), 1);
        ok(c, "F6_E2M3 [4] in 3 bytes", file(tensor("F6_E2M3", "[4]", "[0,3]"), 3), 1);
        err(c, "F4 [3]", file(tensor("F4", "[3]", "[0,2]"), 2), "MisalignedSlice");
        err(c, "F6_E3M2 [1]", file(tensor("F6_E3M2", "[1]", "[0,1]"), 1), "MisalignedSlice");
        ok(
                c,
                "extra field in a tensor object",
                file(
                        "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":[1,{\"x\":null}]}}",
                        1),
                1);
        err(
                c,
                "missing dtype",
                file("{\"t\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "missing shape",
                file("{\"t\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "missing data_offsets",
                file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "duplicate dtype",
                file(
                        "{\"t\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                        1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "data_offsets with 1 element",
                file(tensor("U8", "[1]", "[1]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "data_offsets with 3 elements",
                file(tensor("U8", "[1]", "[0,1,1]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "data_offsets as strings",
                file(tensor("U8", "[1]", "[\"0\",\"1\"]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "data_offsets negative",
                file(tensor("U8", "[1]", "[-1,0]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "shape [1.0]",
                file(tensor("U8", "[1.0]", "[0,1]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "shape [1e0]",
                file(tensor("U8", "[1e0]", "[0,1]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "shape [-1]",
                file(tensor("U8", "[-1]", "[0,1]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "shape [2^64]",
                file(tensor("U8", "[18446744073709551616]", "[0,1]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "shape null",
                file(tensor("U8", "null", "[0,1]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "shape object",
                file(tensor("U8", "{\"0\":1}", "[0,1]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "shape [2^32, 2^32]",
                file(tensor("U8", "[4294967296,4294967296]", "[0,1]"), 1),
                "ValidationOverflow");
        err(
                c,
                "shape [2^60] of F32 (bits overflow)",
                file(tensor("F32", "[1152921504606846976]", "[0,4]"), 4),
                "ValidationOverflow");
        err(c, "scalar [] with [0,0]", file(tensor("F32", "[]", "[0,0]")), "TensorInvalidInfo");
        err(c, "[0] with [0,4]", file(tensor("F32", "[0]", "[0,4]"), 4), "TensorInvalidInfo");
        ok(
                c,
                "two zero-size tensors both [0,0]",
                file(
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}"),
                2);
        ok(
                c,
                "zero-size [4,4] after a 4-byte tensor",
                file(
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}",
                        4),
                2);
        err(c, "offsets start at 4", file(tensor("F32", "[1]", "[4,8]"), 8), "InvalidOffset");
        err(
                c,
                "gap",
                file(
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                        12),
                "InvalidOffset");
        err(
                c,
                "overlap",
                file(
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                        12),
                "InvalidOffset");
        err(
                c,
                "identical ranges",
                file(
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                        4),
                "InvalidOffset");
        err(
                c,
                "end < begin",
                file(
                        "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}",
                        4),
                "InvalidOffset");
        ok(
                c,
                "JSON out of offset order",
                file(
                        "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                        8),
                2);
        ok(c, "empty name", file("{\"\":" + t + "}", 1), 1);
        ok(c, "\\u0000 in a name", file("{\"a\\u0000b\":" + t + "}", 1), 1);
        ok(c, "raw UTF-8 name", file("{\"\u00e9\u6f22\ud83d\ude00\":" + t + "}", 1), 1);
        ok(c, "escaped surrogate pair in a name", file("{\"\\ud83d\\ude00\":" + t + "}", 1), 1);
        err(
                c,
                "lone surrogate \\ud800 in a name",
                file("{\"\\ud800\":" + t + "}", 1),
                "InvalidHeaderDeserialization");
        ok(
                c,
                "64-dim shape of 1s",
                file(tensor("U8", "[" + "1,".repeat(63) + "1]", "[0,1]"), 1),
                1);
        err(
                c,
                "header claims a 4 GiB tensor, file tiny",
                file(tensor("U8", "[4294967296]", "[0,4294967296]"), 1),
                "MetadataIncompleteBuffer");
        err(c, "comment", file("{/* c */}"), "InvalidHeaderDeserialization");
        err(
                c,
                "trailing comma",
                file("{\"__metadata__\":{\"a\":\"b\",}}"),
                "InvalidHeaderDeserialization");
        err(
                c,
                "NaN",
                file(
                        "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":NaN}}",
                        1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "leading zero",
                file(tensor("U8", "[01]", "[0,1]"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "200-deep nesting in an ignored field",
                file(unknownField("[".repeat(200) + "]".repeat(200)), 1),
                "InvalidHeaderDeserialization");

        // Further probes of serde_json's rules (checked against python safetensors 0.8.0)
        ok(
                c,
                "125-deep nesting in an ignored field (127 levels)",
                file(unknownField("[".repeat(125) + "]".repeat(125)), 1),
                1);
        err(
                c,
                "126-deep nesting in an ignored field (128 levels)",
                file(unknownField("[".repeat(126) + "]".repeat(126)), 1),
                "InvalidHeaderDeserialization");
        ok(c, "-0 in an ignored field", file(unknownField("-0"), 1), 1);
        err(
                c,
                "-0 as a dimension (a float for serde_json)",
                file(tensor("U8", "[-0]", "[0,0]")),
                "InvalidHeaderDeserialization");
        err(
                c,
                "1e999 in an ignored field",
                file(unknownField("1e999"), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "-1e309 in an ignored field",
                file(unknownField("-1e309"), 1),
                "InvalidHeaderDeserialization");
        ok(c, "1.5e308 in an ignored field", file(unknownField("1.5e308"), 1), 1);
        ok(
                c,
                "30-digit integer in an ignored field",
                file(unknownField("123456789012345678901234567890"), 1),
                1);
        err(
                c,
                "400-digit integer in an ignored field",
                file(unknownField("9".repeat(400)), 1),
                "InvalidHeaderDeserialization");
        ok(
                c,
                "2000-digit fraction in an ignored field",
                file(unknownField("0." + "0".repeat(2000) + "1"), 1),
                1);
        err(
                c,
                "lone surrogate in an ignored field",
                file(unknownField("\"\\ud800\""), 1),
                "InvalidHeaderDeserialization");
        err(
                c,
                "lone surrogate in a metadata value",
                file("{\"__metadata__\":{\"a\":\"\\udc00\"}}"),
                "InvalidHeaderDeserialization");
        ok(
                c,
                "duplicate ignored field",
                file(
                        "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1,\"x\":2}}",
                        1),
                1);
        ok(
                c,
                "duplicate metadata key (last wins)",
                file("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}"),
                0);
        err(
                c,
                "invalid escape",
                file("{\"__metadata__\":{\"a\":\"\\x\"}}"),
                "InvalidHeaderDeserialization");
        err(
                c,
                "raw tab inside a string",
                file("{\"__metadata__\":{\"a\":\"\t\"}}"),
                "InvalidHeaderDeserialization");
        err(c, "DEL after the object", file("{}\u007f"), "InvalidHeaderDeserialization");
        err(c, "two objects", file("{}{}"), "InvalidHeaderDeserialization");
        err(c, "tensor null", file("{\"t\":null}"), "InvalidHeaderDeserialization");
        err(
                c,
                "UTF-16 looking header (NUL bytes)",
                RawFiles.of(new byte[] {0, '{', 0, '}'}, new byte[0]),
                "InvalidHeaderDeserialization");
        err(
                c,
                "overlong UTF-8 (C0 AF)",
                RawFiles.of(new byte[] {'{', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'}, new byte[0]),
                "InvalidHeader");
        err(
                c,
                "UTF-8 encoded surrogate (ED A0 80)",
                RawFiles.of(
                        new byte[] {'{', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'},
                        new byte[0]),
                "InvalidHeader");
        err(
                c,
                "truncated UTF-8 at the end",
                RawFiles.of(new byte[] {'{', '}', (byte) 0xE2, (byte) 0x82}, new byte[0]),
                "InvalidHeader");
        err(
                c,
                "invalid UTF-8 wins over invalid JSON before it",
                RawFiles.of(new byte[] {'x', (byte) 0xFF}, new byte[0]),
                "InvalidHeader");
        err(
                c,
                "wrong shape in a truncated file: TensorInvalidInfo first",
                file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 2),
                "TensorInvalidInfo");
        deviation(
                c,
                "tensor info as a 3-element array (serde derive artefact)",
                file("{\"t\":[\"U8\",[1],[0,1]]}", 1),
                "InvalidHeaderDeserialization",
                null);
        deviation(
                c,
                "dtype as an enum map {\"U8\":null} (serde derive artefact)",
                file("{\"t\":{\"dtype\":{\"U8\":null},\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
                "InvalidHeaderDeserialization",
                null);
        deviation(
                c,
                "dimension 2^64-1 in a zero-size tensor",
                file(tensor("U8", "[0,18446744073709551615]", "[0,0]")),
                "ValidationOverflow",
                null);
        return c;
    }

    private static String tensor(String dtype, String shape, String offsets) {
        return "{\"t\":{\"dtype\":\""
                + dtype
                + "\",\"shape\":"
                + shape
                + ",\"data_offsets\":"
                + offsets
                + "}}";
    }

    private static String unknownField(String value) {
        return "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":"
                + value
                + "}}";
    }

    private static byte[] file(String header) {
        return RawFiles.of(header, new byte[0]);
    }

    private static byte[] file(String header, int dataBytes) {
        return RawFiles.of(header, new byte[dataBytes]);
    }

    private static void ok(List<Case> c, String name, byte[] bytes, int tensors) {
        c.add(new Case(name, bytes, null, null, tensors));
    }

    private static void err(List<Case> c, String name, byte[] bytes, String kind) {
        c.add(new Case(name, bytes, kind, kind, -1));
    }

    private static void deviation(
            List<Case> c, String name, byte[] bytes, String kind, String referenceKind) {
        c.add(new Case(name, bytes, kind, referenceKind, referenceKind == null ? 1 : -1));
    }
}
