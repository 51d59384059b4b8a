package dev.ptk.nativelib;

import dev.ptk.nativelib.global.ptk;
import dev.ptk.nativelib.presets.LibraryFlavour;
import java.util.ArrayList;
import java.util.List;

/** What libptk reports about this machine: version and flavour, CUDA runtime and driver, devices. */
public record CudaEnvironment(
    String libraryVersion,
    LibraryFlavour flavour,
    String libraryPath,
    boolean builtWithCuda,
    int runtimeVersion,
    int driverVersion,
    String runtimeBinding,
    List<DeviceInfo> devices) {

  /** Queries libptk. No GPU or no driver yields an empty device list, not an exception. */
  public static CudaEnvironment query() {
    Native.load();
    int[] runtime = new int[1];
    int[] driver = new int[1];
    Native.check(ptk.ptk_cuda_versions(runtime, driver));
    int[] count = new int[1];
    Native.check(ptk.ptk_device_count(count));
    List<DeviceInfo> devices = new ArrayList<>();
    try (ptk.ptk_device_info info = new ptk.ptk_device_info()) {
      for (int d = 0; d < count[0]; d++) {
        Native.check(ptk.ptk_device_get_info(d, info));
        devices.add(new DeviceInfo(d, info.name().getString(), info.compute_major(),
            info.compute_minor(), info.multiprocessors(), info.max_shared_memory_per_block(),
            info.l2_cache_bytes(), info.memory_bus_width_bits(), info.total_memory_bytes(),
            info.free_memory_bytes(), info.simulated() != 0));
      }
    }
    return new CudaEnvironment(ptk.ptk_version().getString(), Native.flavour(), Native.libraryPath(),
        ptk.ptk_built_with_cuda() != 0, runtime[0], driver[0], Native.cudaRuntimeBinding(), List.copyOf(devices));
  }

  public boolean hasDevice() {
    return !devices.isEmpty();
  }

  /** Whether device 0, the one the CUDA backend opens, is the sim device. */
  public boolean simulated() {
    return hasDevice() && devices.get(0).simulated();
  }

  /** "13.0" from 13000. */
  public static String versionString(int v) {
    return v == 0 ? "none" : (v / 1000) + "." + (v % 1000) / 10;
  }

  /** A few lines for a terminal. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    sb.append("libptk ").append(libraryVersion).append(", ").append(flavour.propertyValue()).append(" flavour")
        .append(builtWithCuda ? " (CUDA kernels built)" : " (built WITHOUT CUDA kernels)").append(": ").append(libraryPath)
        .append('\n');
    sb.append("CUDA runtime ").append(versionString(runtimeVersion))
        .append(", driver ").append(versionString(driverVersion))
        .append("; ").append(runtimeBinding).append('\n');
    if (devices.isEmpty()) {
      sb.append("no CUDA device\n");
    }
    for (DeviceInfo d : devices) {
      sb.append(String.format("device %d: %s, %s, %d SMs, %.1f GiB (%.1f GiB free)%n", d.index(),
          d.name(), d.computeCapability(), d.multiprocessors(), d.totalMemoryBytes() / 1073741824.0,
          d.freeMemoryBytes() / 1073741824.0));
      if (d.simulated()) sb.append("  simulated device: kernels run on the host for validation; timings are meaningless\n");
    }
    return sb.toString();
  }
}
