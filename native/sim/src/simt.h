// Internal interface between the sim's runtime API (runtime.cpp) and its SIMT core (simt.cpp).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <string>

#include "ptk_sim/device.h"

namespace ptk_sim {

// splitmix64: the seeded order of blocks, of threads between rendezvous points, of copy landings.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

// The card the sim reports (PTK_SIM_DEVICE=h100, the default, or small: 4 multiprocessors).
struct DeviceConfig {
  const char* name;
  int multiprocessors;
  size_t shared_per_block;        // without opt-in
  size_t shared_per_block_optin;  // the most a kernel may raise its dynamic limit to
  size_t shared_per_multiprocessor;
  int registers_per_multiprocessor;
  int l2_bytes;
  int bus_width_bits;
  size_t memory_bytes;            // PTK_SIM_MEMORY, default 4 GiB: what cudaMalloc may hand out
};
const DeviceConfig& device_config();

// Whether [p, p + bytes) lies inside one device allocation.
bool is_device_range(const void* p, size_t bytes);

// Queues host work on a stream (or records it during capture), in order with launches and copies;
// `work` returns "" or a fault.
cudaError_t enqueue_host(cudaStream_t stream, const char* what, std::function<std::string()> work);

// Runs every block of the grid; returns "" or the first fault, naming kernel, block and thread.
std::string run_grid(const LaunchConfig& config, const std::function<void()>& body, Rng& rng);

}  // namespace ptk_sim
