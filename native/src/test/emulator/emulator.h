// What the emulated libcuda.so.1 shares with the emulated libcublas (both in this folder).
#pragma once
#include <stddef.h>
#include <stdint.h>

// The device name the emulator reports; tests and benchmarks recognize the emulator by it.
#define SAFELOAD_EMULATOR_DEVICE_NAME "safeload CUDA emulator (host memory, no GPU)"

#ifdef __cplusplus
extern "C" {
#endif
// Whether [p, p + bytes) lies inside one live device allocation.
int safeload_emulator_device_range(uintptr_t p, size_t bytes);
// Whether the calling thread has a current context.
int safeload_emulator_has_context(void);
// Runs run(argument) in the order of `stream` (a CUstream, or 0 for the NULL stream).
int safeload_emulator_submit(void *stream, void (*run)(void *), void *argument);
// Records an illegal access found while executing queued work (sticky, as on a GPU).
void safeload_emulator_fault(const char *what);
#ifdef __cplusplus
}
#endif
