package dev.safeload.cuda.internal.driver;

import jcuda.driver.CUdeviceptr;

/**
 * A {@link CUdeviceptr} whose raw address can be read. JCuda keeps the address in a protected field
 * (docs/lora.md §5.1); a subclass is the supported way to read it, which the cuBLAS binding
 * (java.lang.foreign) needs. The JNI side writes the field when this object is passed to {@code
 * cuMemAlloc}; views are made with the protected (base, offset) constructor, which the JNI side
 * adds up when the pointer is passed to any driver call.
 */
public final class DevicePointer extends CUdeviceptr {
    public DevicePointer() {}

    private DevicePointer(DevicePointer base, long byteOffset) {
        super(base, byteOffset);
    }

    /** A pointer {@code byteOffset} bytes past this one. */
    public DevicePointer plus(long byteOffset) {
        return new DevicePointer(this, byteOffset);
    }

    /** The device address this pointer designates. */
    public long address() {
        return getNativePointer() + getByteOffset();
    }
}
