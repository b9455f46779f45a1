// An emulated CUDA driver (libcuda.so.1) for machines without a GPU: "device" memory is host memory,
// every stream runs its work on its own host thread, and kernel launches run the CUDA C sources of
// native/src/main/cuda on the host. It implements the subset of the driver API that safeload calls
// through JCuda, with the semantics the CUDA Driver API reference gives them, and it is stricter
// than a real GPU where that finds bugs sooner:
//  - every call that needs a context fails with CUDA_ERROR_INVALID_CONTEXT unless the calling thread
//    made one current (cuCtxSetCurrent): a worker thread that forgot fails at once;
//  - every device access (copies, memset, kernels, cuBLAS) is checked against the live allocations;
//    an access outside them fails (synchronous calls) or becomes the sticky
//    CUDA_ERROR_ILLEGAL_ADDRESS (asynchronous work, as on a GPU);
//  - asynchronous work is delayed by a random few hundred microseconds (SAFELOAD_EMULATOR_DELAY_US),
//    so a host buffer reused before its copy finished, or a result read before a synchronize,
//    shows up as wrong bytes instead of passing by luck;
//  - memory is limited to SAFELOAD_EMULATOR_MEMORY bytes (default 4 GiB), so out-of-memory paths run;
//  - new allocations (up to 64 MiB) hold garbage, as cuMemAlloc's do, not the zeros of fresh pages.
// It is a test fixture (the GPU tests run against it in `mvn verify`); it says nothing about speed.
// Built by build.sh; no CUDA toolkit library is linked, only the headers of cuda_fp16.h are used.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "emulator.h"
#include <cuda_fp16.h>

// The kernels, compiled for the host: __global__ functions become plain functions that read the
// thread-local launch coordinates below.
namespace kernels {
struct uint3e { unsigned x, y, z; };
static thread_local uint3e blockIdx, threadIdx, blockDim, gridDim;
#undef __global__
#define __global__
#include "../../main/cuda/convert.cu"
#undef __global__
}  // namespace kernels

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

enum : int {
    CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_OUT_OF_MEMORY = 2, CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_INVALID_DEVICE = 101, CUDA_ERROR_INVALID_IMAGE = 200, CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_INVALID_HANDLE = 400, CUDA_ERROR_NOT_FOUND = 500, CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700, CUDA_ERROR_INVALID_PTX = 218, CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_NOT_SUPPORTED = 801, CUDA_ERROR_UNKNOWN = 999,
};

namespace {

struct Context { int device; };
Context primary{0};
std::atomic<int> primaryRefs{0};
std::atomic<bool> initialized{false};
thread_local Context *current = nullptr;

std::mutex memoryLock;
std::map<uintptr_t, size_t> deviceAllocations;   // base -> bytes
std::map<uintptr_t, size_t> pinnedAllocations;   // base -> bytes
size_t deviceUsed = 0;

std::atomic<int> stickyError{CUDA_SUCCESS};

size_t capacity() {
    static size_t value = [] {
        const char *v = getenv("SAFELOAD_EMULATOR_MEMORY");
        return v ? (size_t) strtoull(v, nullptr, 10) : (size_t) 4 << 30;
    }();
    return value;
}

unsigned maxDelayMicros() {
    static unsigned value = [] {
        const char *v = getenv("SAFELOAD_EMULATOR_DELAY_US");
        return v ? (unsigned) strtoul(v, nullptr, 10) : 300u;
    }();
    return value;
}

void complain(const std::string &what) {
    fprintf(stderr, "safeload CUDA emulator: %s\n", what.c_str());
    fflush(stderr);
}

bool inside(const std::map<uintptr_t, size_t> &table, uintptr_t p, size_t n) {
    auto it = table.upper_bound(p);
    if (it == table.begin()) return false;
    --it;
    return p >= it->first && p + n <= it->first + it->second && p + n >= p;
}

struct Stream {
    bool blocking;
    std::mutex lock;
    std::condition_variable changed;
    std::deque<std::function<void()>> queue;
    uint64_t enqueued = 0, done = 0;
    bool stopping = false;
    std::thread worker;
    std::mt19937 random{12345};

    explicit Stream(bool blocking_) : blocking(blocking_) { worker = std::thread([this] { run(); }); }

    void run() {
        std::unique_lock<std::mutex> guard(lock);
        while (true) {
            changed.wait(guard, [this] { return stopping || !queue.empty(); });
            if (queue.empty()) return;
            std::function<void()> op = std::move(queue.front());
            queue.pop_front();
            unsigned delay = maxDelayMicros() ? random() % (maxDelayMicros() + 1) : 0;
            guard.unlock();
            if (delay) std::this_thread::sleep_for(std::chrono::microseconds(delay));
            op();
            guard.lock();
            done++;
            changed.notify_all();
        }
    }

    uint64_t enqueue(std::function<void()> op) {
        std::lock_guard<std::mutex> guard(lock);
        queue.push_back(std::move(op));
        enqueued++;
        changed.notify_all();
        return enqueued;
    }

    void waitFor(uint64_t ticket) {
        std::unique_lock<std::mutex> guard(lock);
        changed.wait(guard, [&] { return done >= ticket; });
    }

    uint64_t ticket() {
        std::lock_guard<std::mutex> guard(lock);
        return enqueued;
    }

    bool reached(uint64_t ticket) {
        std::lock_guard<std::mutex> guard(lock);
        return done >= ticket;
    }

    void drain() { waitFor(ticket()); }

    ~Stream() {
        {
            std::lock_guard<std::mutex> guard(lock);
            stopping = true;
            changed.notify_all();
        }
        worker.join();
    }
};

std::mutex streamsLock;
std::vector<Stream *> streams;

bool isStream(Stream *s) {
    std::lock_guard<std::mutex> guard(streamsLock);
    for (Stream *t : streams) if (t == s) return true;
    return false;
}

// Legacy default stream semantics (CUDA Programming Guide, "Default stream"): work on the NULL stream
// waits for every blocking stream; streams created with CU_STREAM_NON_BLOCKING are not waited for.
void drainBlocking() {
    std::vector<Stream *> copy;
    {
        std::lock_guard<std::mutex> guard(streamsLock);
        copy = streams;
    }
    for (Stream *s : copy) if (s->blocking) s->drain();
}

void drainAll() {
    std::vector<Stream *> copy;
    {
        std::lock_guard<std::mutex> guard(streamsLock);
        copy = streams;
    }
    for (Stream *s : copy) s->drain();
}

struct Event {
    Stream *stream = nullptr;  // null: recorded on the NULL stream (complete at once) or never recorded
    uint64_t ticket = 0;
    std::chrono::steady_clock::time_point when{};
    bool complete() { return stream == nullptr || stream->reached(ticket); }
};

struct Module {
    std::string ptx;
};

// Resolves the stream argument: nullptr for the NULL stream (0, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD).
bool resolveStream(void *handle, Stream **out) {
    uintptr_t h = (uintptr_t) handle;
    if (h == 0 || h == 1 || h == 2) {
        *out = nullptr;
        return true;
    }
    if (!isStream((Stream *) handle)) return false;
    *out = (Stream *) handle;
    return true;
}

// Runs `op` in stream order: queued on a stream, or at once after the blocking streams on the NULL stream.
void submit(Stream *stream, std::function<void()> op) {
    if (stream == nullptr) {
        drainBlocking();
        op();
    } else {
        stream->enqueue(std::move(op));
    }
}

#define NEED_CONTEXT()                                      \
    do {                                                    \
        if (!initialized) return CUDA_ERROR_NOT_INITIALIZED; \
        if (current == nullptr) return CUDA_ERROR_INVALID_CONTEXT; \
    } while (0)

CUresult sticky() { return stickyError.load(); }

void fault(const std::string &what) {
    complain("illegal address: " + what);
    int expected = CUDA_SUCCESS;
    stickyError.compare_exchange_strong(expected, CUDA_ERROR_ILLEGAL_ADDRESS);
}

}  // namespace

// ---- emulator.h: shared with the emulated cuBLAS ----
extern "C" int safeload_emulator_device_range(uintptr_t p, size_t bytes) {
    std::lock_guard<std::mutex> guard(memoryLock);
    return bytes == 0 || inside(deviceAllocations, p, bytes);
}

extern "C" int safeload_emulator_has_context(void) { return initialized && current != nullptr; }

extern "C" int safeload_emulator_submit(void *stream, void (*run)(void *), void *argument) {
    Stream *s;
    if (!resolveStream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    submit(s, [run, argument] { run(argument); });
    return CUDA_SUCCESS;
}

extern "C" void safeload_emulator_fault(const char *what) { fault(what); }

// ---- initialization, devices, contexts ----
extern "C" CUresult cuInit(unsigned flags) {
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    initialized = true;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDriverGetVersion(int *version) {
    if (!version) return CUDA_ERROR_INVALID_VALUE;
    *version = 13000;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDeviceGetCount(int *count) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!count) return CUDA_ERROR_INVALID_VALUE;
    *count = 1;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDeviceGet(int *device, int ordinal) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!device) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *device = 0;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDeviceGetName(char *name, int length, int device) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (!name || length <= 0) return CUDA_ERROR_INVALID_VALUE;
    snprintf(name, (size_t) length, "%s", SAFELOAD_EMULATOR_DEVICE_NAME);
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDeviceTotalMem_v2(size_t *bytes, int device) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (!bytes) return CUDA_ERROR_INVALID_VALUE;
    *bytes = capacity();
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (!value) return CUDA_ERROR_INVALID_VALUE;
    switch (attribute) {
        case 1: *value = 1024; break;   // MAX_THREADS_PER_BLOCK
        case 16: *value = 8; break;     // MULTIPROCESSOR_COUNT (small: the launch grid is emulated on the host)
        case 40: *value = 2; break;     // ASYNC_ENGINE_COUNT
        case 41: *value = 1; break;     // UNIFIED_ADDRESSING
        case 75: *value = 9; break;     // COMPUTE_CAPABILITY_MAJOR
        case 76: *value = 0; break;     // COMPUTE_CAPABILITY_MINOR
        default: *value = 0;
    }
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDevicePrimaryCtxRetain(void **context, int device) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (!context) return CUDA_ERROR_INVALID_VALUE;
    primaryRefs++;
    *context = &primary;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuDevicePrimaryCtxRelease_v2(int device) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (device != 0) return CUDA_ERROR_INVALID_DEVICE;
    if (primaryRefs.load() <= 0) {
        complain("cuDevicePrimaryCtxRelease without a matching retain");
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    if (--primaryRefs == 0) {
        // The primary context is destroyed: its memory goes with it (a leak the tests catch separately).
        drainAll();
        std::lock_guard<std::mutex> guard(memoryLock);
        if (!deviceAllocations.empty()) {
            complain(std::to_string(deviceAllocations.size()) + " device allocation(s) still live when the primary context was released");
        }
        for (auto &a : deviceAllocations) free((void *) a.first);
        deviceAllocations.clear();
        deviceUsed = 0;
    }
    return CUDA_SUCCESS;
}

extern "C" CUresult cuCtxSetCurrent(void *context) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (context == nullptr) {
        current = nullptr;
        return CUDA_SUCCESS;
    }
    if (context != &primary || primaryRefs.load() <= 0) return CUDA_ERROR_INVALID_CONTEXT;
    current = &primary;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuCtxGetCurrent(void **context) {
    if (!initialized) return CUDA_ERROR_NOT_INITIALIZED;
    if (!context) return CUDA_ERROR_INVALID_VALUE;
    *context = current;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuCtxSynchronize(void) {
    NEED_CONTEXT();
    drainAll();
    return sticky();
}

// ---- memory ----
extern "C" CUresult cuMemGetInfo_v2(size_t *freeBytes, size_t *totalBytes) {
    NEED_CONTEXT();
    if (!freeBytes || !totalBytes) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> guard(memoryLock);
    *freeBytes = capacity() - deviceUsed;
    *totalBytes = capacity();
    return CUDA_SUCCESS;
}

extern "C" CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
    NEED_CONTEXT();
    if (!pointer || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    std::lock_guard<std::mutex> guard(memoryLock);
    // Allocation granularity: the driver rounds to at least 512 bytes and aligns every allocation to 256.
    size_t rounded = (bytes + 511) / 512 * 512;
    if (rounded > capacity() - deviceUsed) return CUDA_ERROR_OUT_OF_MEMORY;
    void *p = nullptr;
    if (posix_memalign(&p, 512, rounded) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
    // cuMemAlloc does not clear memory: fresh host pages would read as zeros and hide a missing
    // initialization, so allocations up to 64 MiB start as garbage (larger ones are left untouched
    // rather than committing host memory for them).
    if (rounded <= ((size_t) 64 << 20)) memset(p, 0xA5, rounded);
    deviceAllocations[(uintptr_t) p] = bytes;
    deviceUsed += rounded;
    *pointer = (CUdeviceptr) (uintptr_t) p;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuMemFree_v2(CUdeviceptr pointer) {
    NEED_CONTEXT();
    // cuMemFree synchronizes: work in flight that uses the memory finishes first.
    drainAll();
    std::lock_guard<std::mutex> guard(memoryLock);
    auto it = deviceAllocations.find((uintptr_t) pointer);
    if (it == deviceAllocations.end()) {
        complain("cuMemFree of an address that is not the start of a live allocation");
        return CUDA_ERROR_INVALID_VALUE;
    }
    deviceUsed -= (it->second + 511) / 512 * 512;
    free((void *) it->first);
    deviceAllocations.erase(it);
    return CUDA_SUCCESS;
}

extern "C" CUresult cuMemHostAlloc(void **pointer, size_t bytes, unsigned flags) {
    NEED_CONTEXT();
    if (!pointer || bytes == 0 || (flags & ~0x7u)) return CUDA_ERROR_INVALID_VALUE;
    void *p = nullptr;
    if (posix_memalign(&p, 4096, bytes) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
    std::lock_guard<std::mutex> guard(memoryLock);
    pinnedAllocations[(uintptr_t) p] = bytes;
    *pointer = p;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuMemFreeHost(void *pointer) {
    NEED_CONTEXT();
    drainAll();
    std::lock_guard<std::mutex> guard(memoryLock);
    auto it = pinnedAllocations.find((uintptr_t) pointer);
    if (it == pinnedAllocations.end()) {
        complain("cuMemFreeHost of an address that cuMemHostAlloc did not return");
        return CUDA_ERROR_INVALID_VALUE;
    }
    free(pointer);
    pinnedAllocations.erase(it);
    return CUDA_SUCCESS;
}

namespace {
bool deviceRange(CUdeviceptr p, size_t n) { return safeload_emulator_device_range((uintptr_t) p, n); }

bool pinned(const void *p, size_t n) {
    std::lock_guard<std::mutex> guard(memoryLock);
    return inside(pinnedAllocations, (uintptr_t) p, n);
}

// Copies at execution time, re-checking the device side (memory freed in between is a fault).
void copyChecked(void *dst, const void *src, size_t n, CUdeviceptr device, const char *what) {
    if (!deviceRange(device, n)) {
        fault(std::string(what) + ": the device range is no longer allocated");
        return;
    }
    memmove(dst, src, n);
}
}  // namespace

extern "C" CUresult cuMemsetD8_v2(CUdeviceptr pointer, unsigned char value, size_t n) {
    NEED_CONTEXT();
    if (!deviceRange(pointer, n)) return CUDA_ERROR_INVALID_VALUE;
    drainBlocking();
    memset((void *) (uintptr_t) pointer, value, n);
    return sticky();
}

extern "C" CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n) {
    NEED_CONTEXT();
    if (n && (!src || !deviceRange(dst, n))) return CUDA_ERROR_INVALID_VALUE;
    drainBlocking();
    memmove((void *) (uintptr_t) dst, src, n);
    return sticky();
}

extern "C" CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n) {
    NEED_CONTEXT();
    if (n && (!dst || !deviceRange(src, n))) return CUDA_ERROR_INVALID_VALUE;
    drainBlocking();
    memmove(dst, (const void *) (uintptr_t) src, n);
    return sticky();
}

extern "C" CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    NEED_CONTEXT();
    if (n && (!deviceRange(dst, n) || !deviceRange(src, n))) return CUDA_ERROR_INVALID_VALUE;
    drainBlocking();
    memmove((void *) (uintptr_t) dst, (const void *) (uintptr_t) src, n);
    return sticky();
}

// Asynchronous copies from pinned memory are queued; from pageable memory the driver stages the
// bytes before returning (CUDA Driver API, "API synchronization behavior"), so they are copied now,
// in stream order.
extern "C" CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, void *stream) {
    NEED_CONTEXT();
    Stream *s;
    if (!resolveStream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (n == 0) return sticky();
    if (!src || !deviceRange(dst, n)) return CUDA_ERROR_INVALID_VALUE;
    void *d = (void *) (uintptr_t) dst;
    if (pinned(src, n)) {
        submit(s, [=] { copyChecked(d, src, n, dst, "cuMemcpyHtoDAsync"); });
    } else {
        if (s) s->drain();
        submit(s, [=] { copyChecked(d, src, n, dst, "cuMemcpyHtoDAsync"); });
        if (s) s->drain();
    }
    return sticky();
}

extern "C" CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, void *stream) {
    NEED_CONTEXT();
    Stream *s;
    if (!resolveStream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (n == 0) return sticky();
    if (!dst || !deviceRange(src, n)) return CUDA_ERROR_INVALID_VALUE;
    const void *from = (const void *) (uintptr_t) src;
    submit(s, [=] { copyChecked(dst, from, n, src, "cuMemcpyDtoHAsync"); });
    if (!pinned(dst, n) && s) s->drain();
    return sticky();
}

extern "C" CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void *stream) {
    NEED_CONTEXT();
    Stream *s;
    if (!resolveStream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (n == 0) return sticky();
    if (!deviceRange(dst, n) || !deviceRange(src, n)) return CUDA_ERROR_INVALID_VALUE;
    submit(s, [=] {
        if (!deviceRange(dst, n) || !deviceRange(src, n)) {
            fault("cuMemcpyDtoDAsync: a device range is no longer allocated");
            return;
        }
        memmove((void *) (uintptr_t) dst, (const void *) (uintptr_t) src, n);
    });
    return sticky();
}

// ---- streams and events ----
extern "C" CUresult cuStreamCreate(void **stream, unsigned flags) {
    NEED_CONTEXT();
    if (!stream || (flags & ~1u)) return CUDA_ERROR_INVALID_VALUE;
    Stream *s = new Stream((flags & 1u) == 0);
    std::lock_guard<std::mutex> guard(streamsLock);
    streams.push_back(s);
    *stream = s;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuStreamDestroy_v2(void *stream) {
    NEED_CONTEXT();
    Stream *s = (Stream *) stream;
    {
        std::lock_guard<std::mutex> guard(streamsLock);
        auto it = std::find(streams.begin(), streams.end(), s);
        if (it == streams.end()) return CUDA_ERROR_INVALID_HANDLE;
        streams.erase(it);
    }
    // Work already queued completes; the stream's resources go when it has (cuStreamDestroy).
    s->drain();
    delete s;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuStreamSynchronize(void *stream) {
    NEED_CONTEXT();
    Stream *s;
    if (!resolveStream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (s) s->drain(); else drainBlocking();
    return sticky();
}

extern "C" CUresult cuEventCreate(void **event, unsigned flags) {
    NEED_CONTEXT();
    if (!event || (flags & ~0xFu)) return CUDA_ERROR_INVALID_VALUE;
    *event = new Event();
    return CUDA_SUCCESS;
}

extern "C" CUresult cuEventDestroy_v2(void *event) {
    NEED_CONTEXT();
    if (!event) return CUDA_ERROR_INVALID_HANDLE;
    Event *e = (Event *) event;
    // Destroying an event whose work is pending is legal: the resources are released when it completes.
    if (e->stream) e->stream->waitFor(e->ticket);
    delete e;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuEventRecord(void *event, void *stream) {
    NEED_CONTEXT();
    if (!event) return CUDA_ERROR_INVALID_HANDLE;
    Stream *s;
    if (!resolveStream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    Event *e = (Event *) event;
    if (s == nullptr) {
        drainBlocking();
        e->stream = nullptr;
        e->when = std::chrono::steady_clock::now();
        return sticky();
    }
    auto when = &e->when;
    e->stream = s;
    e->ticket = s->enqueue([when] { *when = std::chrono::steady_clock::now(); });
    return sticky();
}

extern "C" CUresult cuEventQuery(void *event) {
    NEED_CONTEXT();
    if (!event) return CUDA_ERROR_INVALID_HANDLE;
    Event *e = (Event *) event;
    if (sticky() != CUDA_SUCCESS) return sticky();
    return e->complete() ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

extern "C" CUresult cuEventSynchronize(void *event) {
    NEED_CONTEXT();
    if (!event) return CUDA_ERROR_INVALID_HANDLE;
    Event *e = (Event *) event;
    if (e->stream) e->stream->waitFor(e->ticket);
    return sticky();
}

extern "C" CUresult cuEventElapsedTime(float *ms, void *start, void *end) {
    NEED_CONTEXT();
    if (!ms || !start || !end) return CUDA_ERROR_INVALID_VALUE;
    Event *a = (Event *) start, *b = (Event *) end;
    if (!a->complete() || !b->complete()) return CUDA_ERROR_NOT_READY;
    *ms = std::chrono::duration<float, std::milli>(b->when - a->when).count();
    return CUDA_SUCCESS;
}

extern "C" CUresult cuStreamWaitEvent(void *stream, void *event, unsigned flags) {
    NEED_CONTEXT();
    if (!event || flags != 0) return CUDA_ERROR_INVALID_VALUE;
    Stream *s;
    if (!resolveStream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    Event *e = (Event *) event;
    // The wait is on the event's most recent record at the time of this call (cuStreamWaitEvent).
    Stream *on = e->stream;
    uint64_t ticket = e->ticket;
    if (on == nullptr) return sticky();
    if (s == nullptr) {
        on->waitFor(ticket);
    } else if (s != on) {
        s->enqueue([on, ticket] { on->waitFor(ticket); });
    }
    return sticky();
}

// ---- modules and kernels ----
namespace {
struct HostKernel {
    const char *name;
    size_t sourceBytes;
    void (*run)(const void *, void *, unsigned long long);
};

template <typename S, void (*K)(const S *, kernels::u16 *, kernels::u64)>
void call(const void *src, void *dst, unsigned long long n) {
    K((const S *) src, (kernels::u16 *) dst, n);
}

const HostKernel hostKernels[] = {
    {"safeload_f32_to_f16", 4, call<float, kernels::safeload_f32_to_f16>},
    {"safeload_f32_to_bf16", 4, call<float, kernels::safeload_f32_to_bf16>},
    {"safeload_bf16_to_f16", 2, call<kernels::u16, kernels::safeload_bf16_to_f16>},
    {"safeload_f16_to_bf16", 2, call<kernels::u16, kernels::safeload_f16_to_bf16>},
};
}  // namespace

extern "C" CUresult cuModuleLoadData(void **module, const void *image) {
    NEED_CONTEXT();
    if (!module || !image) return CUDA_ERROR_INVALID_VALUE;
    std::string ptx((const char *) image);
    // A PTX module names its ISA version and target; this driver (13.0) JITs ISA up to 9.0 for sm_90.
    size_t v = ptx.find(".version ");
    size_t t = ptx.find(".target ");
    if (v == std::string::npos || t == std::string::npos) return CUDA_ERROR_INVALID_IMAGE;
    double version = atof(ptx.c_str() + v + 9);
    if (version > 9.0) return CUDA_ERROR_INVALID_PTX;
    *module = new Module{ptx};
    return CUDA_SUCCESS;
}

extern "C" CUresult cuModuleUnload(void *module) {
    NEED_CONTEXT();
    if (!module) return CUDA_ERROR_INVALID_HANDLE;
    delete (Module *) module;
    return CUDA_SUCCESS;
}

extern "C" CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
    NEED_CONTEXT();
    if (!function || !module || !name) return CUDA_ERROR_INVALID_VALUE;
    Module *m = (Module *) module;
    if (m->ptx.find(std::string(".entry ") + name + "(") == std::string::npos) return CUDA_ERROR_NOT_FOUND;
    for (const HostKernel &k : hostKernels) {
        if (strcmp(k.name, name) == 0) {
            *function = (void *) &k;
            return CUDA_SUCCESS;
        }
    }
    complain(std::string("the PTX has kernel ") + name + " but the emulator has no host version of it");
    return CUDA_ERROR_NOT_FOUND;
}

extern "C" CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                                   unsigned bz, unsigned sharedBytes, void *stream, void **parameters, void **extra) {
    NEED_CONTEXT();
    if (!function) return CUDA_ERROR_INVALID_HANDLE;
    Stream *s;
    if (!resolveStream(stream, &s)) return CUDA_ERROR_INVALID_HANDLE;
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return CUDA_ERROR_INVALID_VALUE;
    if ((unsigned long long) bx * by * bz > 1024 || gx > 2147483647u || gy > 65535 || gz > 65535) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (sharedBytes > 48 * 1024) return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
    if (!parameters || extra) return CUDA_ERROR_INVALID_VALUE;
    const HostKernel *k = (const HostKernel *) function;
    // Parameters are copied at launch (cuLaunchKernel): (const T *src, u16 *dst, u64 n).
    CUdeviceptr src = *(CUdeviceptr *) parameters[0];
    CUdeviceptr dst = *(CUdeviceptr *) parameters[1];
    unsigned long long n = *(unsigned long long *) parameters[2];
    submit(s, [=] {
        if (!deviceRange(src, n * k->sourceBytes) || !deviceRange(dst, n * 2)) {
            fault(std::string(k->name) + ": reads or writes outside device memory");
            return;
        }
        kernels::gridDim = {gx, gy, gz};
        kernels::blockDim = {bx, by, bz};
        for (unsigned b = 0; b < gx; b++) {
            for (unsigned t = 0; t < bx; t++) {
                kernels::blockIdx = {b, 0, 0};
                kernels::threadIdx = {t, 0, 0};
                k->run((const void *) (uintptr_t) src, (void *) (uintptr_t) dst, n);
            }
        }
    });
    return sticky();
}

// ---- errors ----
namespace {
struct ErrorText { int code; const char *name; const char *text; };
const ErrorText errorTexts[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {101, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {200, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {201, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {400, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {600, "CUDA_ERROR_NOT_READY", "device not ready"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {801, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {999, "CUDA_ERROR_UNKNOWN", "unknown error"},
};
}  // namespace

extern "C" CUresult cuGetErrorName(int error, const char **name) {
    if (!name) return CUDA_ERROR_INVALID_VALUE;
    for (const ErrorText &e : errorTexts) {
        if (e.code == error) {
            *name = e.name;
            return CUDA_SUCCESS;
        }
    }
    *name = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

extern "C" CUresult cuGetErrorString(int error, const char **text) {
    if (!text) return CUDA_ERROR_INVALID_VALUE;
    for (const ErrorText &e : errorTexts) {
        if (e.code == error) {
            *text = e.text;
            return CUDA_SUCCESS;
        }
    }
    *text = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}
