package dev.safeload.cuda;

import dev.safeload.cuda.internal.driver.Driver;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One CUDA device, as the driver describes it. Obtain it from {@link Cuda#devices()}.
 *
 * @param ordinal the CUDA ordinal (after {@code CUDA_VISIBLE_DEVICES})
 * @param name the product name, for example {@code NVIDIA H100 80GB HBM3}
 * @param computeCapabilityMajor for example 9 on Hopper
 * @param computeCapabilityMinor for example 0 on Hopper
 * @param totalMemory device memory in bytes
 * @param multiprocessors streaming multiprocessor count
 */
public record CudaDevice(
        int ordinal,
        String name,
        int computeCapabilityMajor,
        int computeCapabilityMinor,
        long totalMemory,
        int multiprocessors) {

    /** Retains this device's primary context; close the context to release it. */
    public CudaContext openContext() {
        return CudaContext.open(this);
    }

    /** For example {@code sm_90}. */
    public String architecture() {
        return "sm_" + computeCapabilityMajor + computeCapabilityMinor;
    }

    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "cuda:%d (%s, %s, %.1f GiB)",
                ordinal,
                name,
                architecture(),
                totalMemory / (double) (1L << 30));
    }

    static CudaDevice query(int ordinal) {
        CUdevice device = handle(ordinal);
        byte[] name = new byte[256];
        Driver.check(
                () -> JCudaDriver.cuDeviceGetName(name, name.length, device),
                "cuDeviceGetName(" + ordinal + ")");
        int length = 0;
        while (length < name.length && name[length] != 0) {
            length++;
        }
        long[] total = new long[1];
        Driver.check(
                () -> JCudaDriver.cuDeviceTotalMem(total, device),
                "cuDeviceTotalMem(" + ordinal + ")");
        return new CudaDevice(
                ordinal,
                new String(name, 0, length, StandardCharsets.UTF_8),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                total[0],
                attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
    }

    static CUdevice handle(int ordinal) {
        CUdevice device = new CUdevice();
        Driver.check(
                () -> JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        return device;
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] value = new int[1];
        Driver.check(
                () -> JCudaDriver.cuDeviceGetAttribute(value, attribute, device),
                "cuDeviceGetAttribute(" + attribute + ")");
        return value[0];
    }
}
