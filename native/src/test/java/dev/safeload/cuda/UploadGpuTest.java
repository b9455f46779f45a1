package dev.safeload.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.safeload.cuda.internal.upload.Conversion;
import dev.safeload.cuda.internal.upload.ConversionKernels;
import dev.safeload.safetensors.DType;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.SafetensorsWriter;
import dev.safeload.safetensors.TensorInfo;
import dev.safeload.testing.PythonOracle;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * Uploads on a real GPU: the device holds the file's bytes (checked against the file and against
 * {@code safetensors.torch.load_file(path, device="cuda")}), conversions are bit-identical to
 * PyTorch's {@code .to(dtype)}, free memory is the same before and after, and an out-of-memory
 * failure in the middle of an upload frees everything it allocated.
 */
@RequiresGpu
class UploadGpuTest {
    @TempDir static Path dir;
    static Path file;
    static CudaContext context;

    @BeforeAll
    static void writeModel() {
        System.setProperty(LeakDetector.PROPERTY, "true");
        context = CudaContext.open(0);
        Random random = new Random(3);
        SafetensorsWriter writer = SafetensorsWriter.create();
        writer.add(
                "embed",
                DType.BF16,
                new long[] {1024, 512},
                RandomTensors.bf16(random, 1024 * 512));
        writer.add(
                "q_proj",
                DType.F32,
                new long[] {768, 1024},
                RandomTensors.floats(random, 768 * 1024));
        writer.add(
                "k_proj", DType.F16, new long[] {256, 1024}, RandomTensors.f16(random, 256 * 1024));
        writer.add("norm", DType.F32, new long[] {1024}, RandomTensors.floats(random, 1024));
        writer.add("bias", DType.BF16, new long[] {3}, RandomTensors.bf16(random, 3));
        writer.add("ids", DType.I64, new long[] {1000}, RandomTensors.bytes(random, 8000));
        writer.add("empty", DType.F16, new long[] {0, 4}, new byte[0]);
        file = dir.resolve("model.safetensors");
        writer.write(file);
    }

    @AfterAll
    static void close() {
        context.close();
    }

    @AfterEach
    void nothingLeft() {
        assertEquals(List.of(), LeakDetector.open());
    }

    @Test
    void deviceBytesEqualTheFilesBytesAndTorchsUpload() throws Exception {
        long freeBefore = context.memoryInfo().free();
        ModelUploader uploader =
                ModelUploader.builder()
                        .bounceBufferBytes(1 << 20)
                        .readerThreads(3)
                        .streams(2)
                        .build();
        Map<String, String> digests;
        try (SafetensorsFile st = SafetensorsFile.open(file);
                DeviceModel model = uploader.upload(context, st)) {
            assertEquals(st.tensors().size(), model.tensors().size());
            for (TensorInfo info : st.tensors()) {
                DeviceTensor t = model.tensor(info.name());
                assertEquals(0, t.buffer().address() % 256, info.name());
                assertEquals(info.dtype(), t.dtype());
                assertArrayEquals(info.shape(), t.shape());
                byte[] expected = new byte[(int) info.byteLength()];
                st.readBytes(info, 0, MemorySegment.ofArray(expected));
                assertArrayEquals(expected, download(t), info.name());
            }
            digests =
                    model.tensors().stream()
                            .collect(
                                    Collectors.toMap(DeviceTensor::name, t -> sha256(download(t))));
        }
        assertFreeAbout(freeBefore);

        PythonOracle.assumeTorch("torch", "safetensors");
        String torch =
                PythonOracle.runTorch(
                                """
                                import hashlib, sys, torch
                                from safetensors.torch import load_file
                                # torch's own upload where it has CUDA; its CPU load under the emulator (same bytes expected)
                                device = "cuda" if torch.cuda.is_available() else "cpu"
                                for name, t in load_file(sys.argv[1], device=device).items():
                                    raw = t.contiguous().view(torch.uint8).cpu().numpy().tobytes() if t.numel() else b""
                                    print(name, hashlib.sha256(raw).hexdigest())
                                """,
                                List.of(file.toString()))
                        .orThrow()
                        .stdout();
        Map<String, String> peer =
                torch.lines()
                        .map(l -> l.split(" "))
                        .collect(Collectors.toMap(p -> p[0], p -> p[1]));
        assertEquals(peer, digests);
    }

    @Test
    void shardedModelLandsInOneArenaWithEveryShardsBytes() throws java.io.IOException {
        Path folder = java.nio.file.Files.createDirectories(dir.resolve("sharded"));
        Random random = new Random(5);
        SafetensorsWriter.create()
                .add("first.a", DType.F16, new long[] {300, 7}, RandomTensors.f16(random, 2100))
                .add("first.b", DType.U8, new long[] {5}, RandomTensors.bytes(random, 5))
                .write(folder.resolve("model-00001-of-00002.safetensors"));
        SafetensorsWriter.create()
                .add(
                        "second.c",
                        DType.F32,
                        new long[] {1000, 3},
                        RandomTensors.floats(random, 3000))
                .write(folder.resolve("model-00002-of-00002.safetensors"));
        java.nio.file.Files.writeString(
                folder.resolve("model.safetensors.index.json"),
                """
                {"metadata": {}, "weight_map": {"first.a": "model-00001-of-00002.safetensors",
                 "first.b": "model-00001-of-00002.safetensors", "second.c": "model-00002-of-00002.safetensors"}}\
                """);
        try (dev.safeload.safetensors.SafetensorsModel model =
                        dev.safeload.safetensors.SafetensorsModel.open(folder);
                DeviceModel uploaded =
                        ModelUploader.builder()
                                .bounceBufferBytes(4096)
                                .build()
                                .upload(context, model)) {
            assertEquals(3, uploaded.tensors().size());
            for (TensorInfo info : model.tensors()) {
                byte[] expected = new byte[(int) info.byteLength()];
                model.fileOf(info.name()).readBytes(info, 0, MemorySegment.ofArray(expected));
                DeviceTensor t = uploaded.tensor(info.name());
                assertTrue(t.buffer().address() >= uploaded.arena().address());
                assertTrue(t.arenaOffset() + t.buffer().byteSize() <= uploaded.arena().byteSize());
                assertArrayEquals(expected, download(t), info.name());
            }
        }
    }

    @Test
    void slicesAndConversionsAreBitIdenticalToTorch() {
        PythonOracle.assumeTorch("torch", "safetensors");
        Map<String, TensorSlice> slices =
                Map.of(
                        "q_proj",
                        TensorSlice.shard(new long[] {768, 1024}, 1, 1, 4),
                        "embed",
                        TensorSlice.shard(new long[] {1024, 512}, 0, 3, 4),
                        "k_proj",
                        new TensorSlice(1, 100, 900));
        Map<String, DType> targets =
                Map.of(
                        "q_proj",
                        DType.F16,
                        "embed",
                        DType.F16,
                        "k_proj",
                        DType.BF16,
                        "norm",
                        DType.BF16,
                        "bias",
                        DType.F16);
        ModelUploader uploader =
                ModelUploader.builder()
                        .bounceBufferBytes(256 << 10)
                        .streams(3)
                        .select(name -> !name.equals("ids"))
                        .slice(t -> Optional.ofNullable(slices.get(t.name())))
                        .convert(t -> Optional.ofNullable(targets.get(t.name())))
                        .build();
        Map<String, String> ours;
        try (SafetensorsFile st = SafetensorsFile.open(file);
                DeviceModel model = uploader.upload(context, st)) {
            ours =
                    model.tensors().stream()
                            .collect(
                                    Collectors.toMap(DeviceTensor::name, t -> sha256(download(t))));
            assertEquals(DType.F16, model.tensor("q_proj").dtype());
            assertArrayEquals(new long[] {768, 256}, model.tensor("q_proj").shape());
        }
        String torch =
                PythonOracle.runTorch(
                                """
                                import hashlib, sys, torch
                                from safetensors.torch import load_file
                                slices = {"q_proj": (1, 256, 512), "embed": (0, 768, 1024), "k_proj": (1, 100, 900)}
                                targets = {"q_proj": torch.float16, "embed": torch.float16, "k_proj": torch.bfloat16,
                                           "norm": torch.bfloat16, "bias": torch.float16}
                                for name, t in load_file(sys.argv[1]).items():
                                    if name == "ids":
                                        continue
                                    if name in slices:
                                        d, s, e = slices[name]
                                        t = t.narrow(d, s, e - s)
                                    if name in targets:
                                        t = t.to(targets[name])
                                    raw = t.contiguous().view(torch.uint8).numpy().tobytes() if t.numel() else b""
                                    print(name, hashlib.sha256(raw).hexdigest())
                                """,
                                List.of(file.toString()))
                        .orThrow()
                        .stdout();
        Map<String, String> peer =
                torch.lines()
                        .map(l -> l.split(" "))
                        .collect(Collectors.toMap(p -> p[0], p -> p[1]));
        assertEquals(peer, ours);
    }

    @Test
    void kernelsEqualTheReferenceForEverySixteenBitInputAndF32Edges() {
        try (ConversionKernels kernels = new ConversionKernels(context);
                CudaStream stream = context.createStream();
                Arena arena = Arena.ofConfined()) {
            for (Conversion c : Conversion.values()) {
                int count = 65536;
                MemorySegment input = arena.allocate((long) count * c.sourceBytes(), 256);
                Random random = new Random(c.ordinal());
                for (int i = 0; i < count; i++) {
                    if (c.sourceBytes() == 2) {
                        input.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) i);
                    } else {
                        // Half random patterns (NaNs included), half exponent sweeps around the
                        // rounding ties.
                        int bits =
                                i % 2 == 0
                                        ? random.nextInt()
                                        : (i >> 9) << 23 | (i & 0x1FF) << 4 | 0x1000;
                        input.setAtIndex(ValueLayout.JAVA_INT, i, bits);
                    }
                }
                try (DeviceBuffer src = context.allocate(input.byteSize());
                        DeviceBuffer dst = context.allocate(2L * count)) {
                    src.copyFromHost(input, 0);
                    kernels.launch(c, src.address(), dst.address(), count, stream);
                    stream.synchronize();
                    MemorySegment output = arena.allocate(2L * count);
                    dst.copyToHost(0, output);
                    MemorySegment expected = arena.allocate(2L * count);
                    c.convert(input, expected, count);
                    for (int i = 0; i < count; i++) {
                        short want = expected.getAtIndex(ValueLayout.JAVA_SHORT, i);
                        short got = output.getAtIndex(ValueLayout.JAVA_SHORT, i);
                        if (want != got) {
                            throw new AssertionError(
                                    String.format(
                                            Locale.ROOT,
                                            "%s element %d: reference 0x%04x, GPU 0x%04x",
                                            c,
                                            i,
                                            want,
                                            got));
                        }
                    }
                }
            }
        }
    }

    @Test
    void outOfMemoryInTheMiddleOfAnUploadFreesEverything() {
        long before = context.memoryInfo().free();
        // Leave room for the arena (about 6 MiB) but not for the conversion scratch (2 x 64 MiB).
        long ballastBytes = before - (40L << 20);
        ModelUploader uploader =
                ModelUploader.builder()
                        .bounceBufferBytes(64L << 20)
                        .streams(2)
                        .convert(DType.F32, DType.F16)
                        .build();
        try (DeviceBuffer ballast = context.allocate(ballastBytes);
                SafetensorsFile st = SafetensorsFile.open(file)) {
            long withBallast = context.memoryInfo().free();
            CudaException e = assertThrows(CudaException.class, () -> uploader.upload(context, st));
            assertEquals(CudaError.CUDA_ERROR_OUT_OF_MEMORY, e.kind());
            assertTrue(
                    e.getMessage().contains("asked for " + (64L << 20) + " bytes"),
                    "the scratch, after the arena: " + e.getMessage());
            assertFreeAbout(withBallast);
        }
        assertFreeAbout(before);
    }

    @Test
    void modelLargerThanTheDeviceFailsBeforeReadingWithAClearMessage() {
        long before = context.memoryInfo().free();
        try (DeviceBuffer ballast = context.allocate(before - (2L << 20));
                SafetensorsFile st = SafetensorsFile.open(file)) {
            CudaException e =
                    assertThrows(
                            CudaException.class,
                            () -> ModelUploader.builder().build().upload(context, st));
            assertEquals(CudaError.CUDA_ERROR_OUT_OF_MEMORY, e.kind());
            assertTrue(e.getMessage().contains("free of"), e.getMessage());
        }
        assertFreeAbout(before);
    }

    /**
     * Free memory is back to {@code expected}, within the driver's 2 MiB allocation granule (the
     * streams and module of an upload may move the driver's own bookkeeping by that much); exact
     * leaks of our own buffers are caught by {@link LeakDetector#open()} after each test.
     */
    static void assertFreeAbout(long expected) {
        long free = context.memoryInfo().free();
        assertTrue(
                Math.abs(expected - free) <= 2L << 20,
                String.format(
                        Locale.ROOT,
                        "free device memory %d, expected %d (difference %d)",
                        free,
                        expected,
                        expected - free));
    }

    static byte[] download(DeviceTensor t) {
        byte[] out = new byte[(int) t.buffer().byteSize()];
        if (out.length > 0) {
            t.buffer().copyToHost(0, MemorySegment.ofArray(out));
        }
        return out;
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
