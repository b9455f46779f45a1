package dev.safeload.loader.internal;

import dev.safeload.cuda.Cuda;
import dev.safeload.loader.Device;
import dev.safeload.loader.LoaderError;
import dev.safeload.loader.LoaderException;

/**
 * Refuses a CUDA device that is not there, before anything is resolved or downloaded, with one
 * message that says why ({@code no CUDA device: ...}).
 */
public final class DeviceCheck {
    private DeviceCheck() {}

    /** Returns if {@code device} can be used here, else throws {@link LoaderError#NoDevice}. */
    public static void require(Device device) {
        if (!device.isCuda()) {
            return;
        }
        if (!Cuda.isAvailable()) {
            throw new LoaderException(
                    LoaderError.NoDevice,
                    "no CUDA device: "
                            + Cuda.unavailableReason().orElse("the driver found none")
                            + "; place the model on the CPU instead");
        }
        int visible = Cuda.devices().size();
        if (device.ordinal() >= visible) {
            throw new LoaderException(
                    LoaderError.NoDevice,
                    "no CUDA device: "
                            + device
                            + " was asked for and "
                            + visible
                            + " device(s) are visible (cuda:0"
                            + (visible > 1 ? " to cuda:" + (visible - 1) : "")
                            + ")");
        }
    }
}
