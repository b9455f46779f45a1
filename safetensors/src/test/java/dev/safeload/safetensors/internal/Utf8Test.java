package dev.safeload.safetensors.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/** The validator against the JDK's strict UTF-8 decoder on random and UTF-8-shaped bytes. */
class Utf8Test {
    private static boolean jdkAccepts(byte[] b) {
        try {
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    @Test
    void agreesWithTheJdkDecoder() {
        Random r = new Random(3);
        int valid = 0;
        for (int i = 0; i < 200_000; i++) {
            byte[] b = new byte[1 + r.nextInt(6)];
            for (int k = 0; k < b.length; k++) {
                // Bias towards lead and continuation bytes so multi-byte forms are common.
                int pick = r.nextInt(4);
                b[k] =
                        (byte)
                                (pick == 0
                                        ? r.nextInt(0x80)
                                        : pick == 1
                                                ? 0x80 + r.nextInt(0x40)
                                                : 0xC0 + r.nextInt(0x40));
            }
            boolean ours = Utf8.firstInvalid(b, 0, b.length) < 0;
            assertEquals(jdkAccepts(b), ours, java.util.HexFormat.of().formatHex(b));
            valid += ours ? 1 : 0;
        }
        assertEquals(true, valid > 10_000, "enough valid inputs: " + valid);
    }

    @Test
    void boundaries() {
        byte[] edges =
                "a\u00e9\u0800\uffff\ud800\udc00\udbff\udfff".getBytes(StandardCharsets.UTF_8);
        assertEquals(-1, Utf8.firstInvalid(edges, 0, edges.length));
        assertEquals(13, Utf8.firstInvalid(edges, 0, edges.length - 1), "U+10FFFF cut short");
        assertEquals(0, Utf8.firstInvalid(new byte[] {(byte) 0xC1, (byte) 0xBF}, 0, 2));
        assertEquals(
                1,
                Utf8.firstInvalid(new byte[] {'x', (byte) 0xED, (byte) 0xA0, (byte) 0x80}, 0, 4));
        assertEquals(
                0,
                Utf8.firstInvalid(
                        new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, 0, 4));
        assertEquals(
                0,
                Utf8.firstInvalid(
                        new byte[] {(byte) 0xF5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, 0, 4));
        assertEquals(
                0, Utf8.firstInvalid(new byte[] {(byte) 0xE0, (byte) 0x9F, (byte) 0xBF}, 0, 3));
    }
}
