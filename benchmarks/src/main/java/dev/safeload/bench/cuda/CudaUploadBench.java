package dev.safeload.bench.cuda;

import dev.safeload.cuda.Cublas;
import dev.safeload.cuda.CublasComputeType;
import dev.safeload.cuda.CublasHandle;
import dev.safeload.cuda.CublasOperation;
import dev.safeload.cuda.Cuda;
import dev.safeload.cuda.CudaContext;
import dev.safeload.cuda.CudaDataType;
import dev.safeload.cuda.CudaDevice;
import dev.safeload.cuda.CudaStream;
import dev.safeload.cuda.DeviceBuffer;
import dev.safeload.cuda.DeviceMatrix;
import dev.safeload.cuda.DeviceModel;
import dev.safeload.cuda.ModelUploader;
import dev.safeload.cuda.PinnedHostBuffer;
import dev.safeload.safetensors.ReadOptions;
import dev.safeload.safetensors.SafetensorsFile;
import dev.safeload.safetensors.TensorInfo;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The measurements behind benchmarks/gpu/run.sh, one per invocation so that the script can drop the
 * page cache between them. Each prints one line {@code RESULT <name> <GB/s> <seconds> <bytes>} (GB
 * = 10^9 bytes).
 *
 * <p>These are single large transfers (8+ GiB), timed once per repetition with a synchronize at the
 * end, not JMH microbenchmarks: a cold read can only happen once per cache drop, and JMH's forks
 * and warm-up iterations would turn a cold measurement into a warm one.
 *
 * <ul>
 *   <li>{@code device}: one line {@code DEVICE name=... cc=... memory=... driver=...}, so that the
 *       tables can say which device (or the CUDA emulator) the figures come from.
 *   <li>{@code h2d [--bytes N] [--streams S] [--chunk C]}: the ceiling, pinned host-to-device
 *       copies of N bytes in chunks of C over S streams.
 *   <li>{@code d2d [--bytes N]}: the HBM ceiling, one device-to-device copy of N bytes; the bytes
 *       reported are read + written (2N), as the LoRA merge tables count them.
 *   <li>{@code gemm [--n N]}: the compute ceiling, cublasGemmEx of two N×N F16 matrices (fp32
 *       compute, as the merge and the serving GEMMs use), 10 per timing; prints {@code FLOPS <name>
 *       <TFLOP/s> <seconds> <flops>}.
 *   <li>{@code read FILE [--threads T] [--block B] [--name N]}: the file's raw read rate,
 *       positional reads of B-byte blocks by T threads into direct buffers.
 *   <li>{@code upload FILE [--backend mmap|pread] [--readers R] [--buffers N] [--bounce B]
 *       [--streams S] [--repeat K] [--name N] [--verify]}: {@link ModelUploader} of every tensor.
 * </ul>
 */
public final class CudaUploadBench {
    private CudaUploadBench() {}

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            System.err.println(
                    "usage: CudaUploadBench device|h2d|d2d|gemm|read|upload [FILE] [--option"
                            + " value]...");
            System.exit(2);
        }
        Map<String, String> options = options(Arrays.copyOfRange(args, 1, args.length));
        switch (args[0]) {
            case "device" -> device();
            case "h2d" -> h2d(options);
            case "d2d" -> d2d(options);
            case "gemm" -> gemm(options);
            case "read" -> read(Path.of(options.get("file")), options);
            case "upload" -> upload(Path.of(options.get("file")), options);
            default -> {
                System.err.println("unknown measurement " + args[0]);
                System.exit(2);
            }
        }
    }

    private static void device() {
        try (CudaContext context = CudaContext.open(0)) {
            CudaDevice device = context.device();
            String cublas =
                    Cublas.isAvailable()
                            ? Cublas.load().version() + " (" + Cublas.load().library() + ")"
                            : "unavailable: " + Cublas.unavailableReason().orElse("?");
            System.out.printf(
                    Locale.ROOT,
                    "DEVICE name=%s cc=%d.%d memory=%d driver=%d cublas=%s%n",
                    device.name(),
                    device.computeCapabilityMajor(),
                    device.computeCapabilityMinor(),
                    context.memoryInfo().total(),
                    Cuda.driverVersion(),
                    cublas);
        }
    }

    private static void gemm(Map<String, String> options) {
        int n = Integer.parseInt(options.getOrDefault("n", "8192"));
        int perTiming = 10;
        long bytes = (long) n * n * 2;
        try (CudaContext context = CudaContext.open(0);
                CudaStream stream = context.createStream();
                CublasHandle blas = Cublas.load().createHandle(stream);
                DeviceBuffer a = context.allocate(bytes);
                DeviceBuffer b = context.allocate(bytes);
                DeviceBuffer c = context.allocate(bytes)) {
            a.fill((byte) 0x21); // 0x2121 = 0.0104 in F16: finite products, no denormal slow paths
            b.fill((byte) 0x21);
            DeviceMatrix ma = new DeviceMatrix(a, CudaDataType.R_16F, n);
            DeviceMatrix mb = new DeviceMatrix(b, CudaDataType.R_16F, n);
            DeviceMatrix mc = new DeviceMatrix(c, CudaDataType.R_16F, n);
            for (int repeat = 0; repeat < 4; repeat++) {
                long start = System.nanoTime();
                for (int i = 0; i < perTiming; i++) {
                    blas.gemmEx(
                            CublasOperation.N,
                            CublasOperation.N,
                            n,
                            n,
                            n,
                            1.0,
                            ma,
                            mb,
                            0.0,
                            mc,
                            CublasComputeType.COMPUTE_32F);
                }
                stream.synchronize();
                long nanos = System.nanoTime() - start;
                double flops = 2.0 * n * n * n * perTiming;
                // run0 includes cuBLAS's kernel selection; the tables take the best run.
                System.out.printf(
                        Locale.ROOT,
                        "FLOPS gemm_f16_%d_run%d %.6g %.4f %.0f%n",
                        n,
                        repeat,
                        flops / nanos / 1e3,
                        nanos / 1e9,
                        flops);
            }
        }
    }

    private static void d2d(Map<String, String> options) {
        long bytes = size(options.getOrDefault("bytes", "4g"));
        try (CudaContext context = CudaContext.open(0);
                DeviceBuffer source = context.allocate(bytes);
                DeviceBuffer target = context.allocate(bytes);
                CudaStream stream = context.createStream()) {
            source.fill((byte) 0x21);
            for (int repeat = 0; repeat < 4; repeat++) {
                long start = System.nanoTime();
                target.copyFromDeviceAsync(source, 0, stream);
                stream.synchronize();
                // run0 includes first-touch costs; the tables take the best run.
                report("d2d_copy_run" + repeat, 2 * bytes, System.nanoTime() - start);
            }
        }
    }

    private static void h2d(Map<String, String> options) {
        long total = size(options.getOrDefault("bytes", "8g"));
        long chunk = size(options.getOrDefault("chunk", "64m"));
        int streamCount = Integer.parseInt(options.getOrDefault("streams", "2"));
        try (CudaContext context = CudaContext.open(0);
                DeviceBuffer target = context.allocate(total)) {
            List<CudaStream> streams = new ArrayList<>();
            List<PinnedHostBuffer> sources = new ArrayList<>();
            try {
                for (int i = 0; i < streamCount; i++) {
                    streams.add(context.createStream());
                    PinnedHostBuffer pinned = context.allocatePinned(chunk);
                    pinned.segment().fill((byte) i);
                    sources.add(pinned);
                }
                for (int repeat = 0; repeat < 3; repeat++) {
                    long start = System.nanoTime();
                    int i = 0;
                    for (long offset = 0; offset < total; offset += chunk, i++) {
                        long n = Math.min(chunk, total - offset);
                        target.copyFromHostAsync(
                                sources.get(i % streamCount).segment().asSlice(0, n),
                                offset,
                                streams.get(i % streamCount));
                    }
                    for (CudaStream s : streams) {
                        s.synchronize();
                    }
                    report(
                            "h2d_pinned_" + streamCount + "streams_run" + repeat,
                            total,
                            System.nanoTime() - start);
                }
            } finally {
                sources.forEach(PinnedHostBuffer::close);
                streams.forEach(CudaStream::close);
            }
        }
    }

    private static void read(Path file, Map<String, String> options) throws IOException {
        int threads = Integer.parseInt(options.getOrDefault("threads", "8"));
        int block = (int) size(options.getOrDefault("block", "16m"));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            AtomicLong next = new AtomicLong();
            long start = System.nanoTime();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(
                        Thread.ofPlatform()
                                .start(
                                        () -> {
                                            ByteBuffer buffer = ByteBuffer.allocateDirect(block);
                                            long offset;
                                            while ((offset = next.getAndAdd(block)) < size) {
                                                buffer.clear()
                                                        .limit(
                                                                (int)
                                                                        Math.min(
                                                                                block,
                                                                                size - offset));
                                                try {
                                                    long at = offset;
                                                    while (buffer.hasRemaining()) {
                                                        int n = channel.read(buffer, at);
                                                        if (n < 0) {
                                                            throw new IOException(
                                                                    "unexpected end of file at "
                                                                            + at);
                                                        }
                                                        at += n;
                                                    }
                                                } catch (IOException e) {
                                                    throw new java.io.UncheckedIOException(e);
                                                }
                                            }
                                        }));
            }
            join(workers);
            report(
                    options.getOrDefault("name", "raw_read_" + threads + "threads"),
                    size,
                    System.nanoTime() - start);
        }
    }

    private static void upload(Path file, Map<String, String> options) {
        ReadOptions.Backend backend =
                ReadOptions.Backend.valueOf(
                        options.getOrDefault("backend", "mmap").toUpperCase(Locale.ROOT));
        ModelUploader uploader =
                ModelUploader.builder()
                        .readerThreads(Integer.parseInt(options.getOrDefault("readers", "8")))
                        .bounceBuffers(Integer.parseInt(options.getOrDefault("buffers", "12")))
                        .bounceBufferBytes(size(options.getOrDefault("bounce", "16m")))
                        .streams(Integer.parseInt(options.getOrDefault("streams", "2")))
                        .build();
        int repeat = Integer.parseInt(options.getOrDefault("repeat", "1"));
        String name =
                options.getOrDefault("name", "upload_" + backend.name().toLowerCase(Locale.ROOT));
        try (CudaContext context = CudaContext.open(0)) {
            for (int r = 0; r < repeat; r++) {
                // Opening (header parse, mapping) is part of what a user waits for, so it is timed
                // too.
                long start = System.nanoTime();
                try (SafetensorsFile st = SafetensorsFile.open(file, ReadOptions.of(backend));
                        DeviceModel model = uploader.upload(context, st)) {
                    long nanos = System.nanoTime() - start;
                    report(name + "_run" + r, model.report().bytesRead(), nanos);
                    if (options.containsKey("verify") && r == 0) {
                        verify(st, model);
                    }
                }
            }
        }
    }

    /**
     * Compares a sample of each tensor (first, middle and last 4 KiB) on the device with the file.
     */
    private static void verify(SafetensorsFile st, DeviceModel model) {
        Random random = new Random(1);
        int checked = 0;
        for (TensorInfo info : st.tensors()) {
            long length = info.byteLength();
            for (long offset :
                    new long[] {
                        0,
                        Math.max(0, length / 2 - 2048 - random.nextInt(1024)),
                        Math.max(0, length - 4096)
                    }) {
                int n = (int) Math.min(4096, length - offset);
                if (n <= 0) {
                    continue;
                }
                byte[] expected = new byte[n];
                st.readBytes(info, offset, MemorySegment.ofArray(expected));
                byte[] actual = new byte[n];
                model.tensor(info.name())
                        .buffer()
                        .copyToHost(offset, MemorySegment.ofArray(actual));
                if (!Arrays.equals(expected, actual)) {
                    throw new IllegalStateException(
                            "device bytes differ from the file in "
                                    + info.name()
                                    + " at "
                                    + offset);
                }
                checked++;
            }
        }
        System.out.println(
                "VERIFIED " + checked + " samples of " + st.tensors().size() + " tensors");
    }

    private static void report(String name, long bytes, long nanos) {
        System.out.printf(
                Locale.ROOT,
                "RESULT %s %.3f %.4f %d%n",
                name,
                bytes / (double) nanos,
                nanos / 1e9,
                bytes);
    }

    private static void join(List<Thread> threads) {
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                options.put("file", args[i]);
            } else if (args[i].equals("--verify")) {
                options.put("verify", "true");
            } else {
                options.put(args[i].substring(2), args[++i]);
            }
        }
        return options;
    }

    /** {@code 123}, {@code 16k}, {@code 64m}, {@code 8g}. */
    static long size(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        long unit =
                switch (t.charAt(t.length() - 1)) {
                    case 'k' -> 1L << 10;
                    case 'm' -> 1L << 20;
                    case 'g' -> 1L << 30;
                    default -> 1;
                };
        return Long.parseLong(unit == 1 ? t : t.substring(0, t.length() - 1)) * unit;
    }
}
