package dev.ptk.nativelib;

/**
 * One CUDA device as libptk sees it. {@code simulated}: the sim device, where the kernels run on
 * the host under the SIMT simulator; its properties are nominal and its timings mean nothing.
 */
public record DeviceInfo(
    int index,
    String name,
    int computeMajor,
    int computeMinor,
    int multiprocessors,
    int maxSharedMemoryPerBlock,
    int l2CacheBytes,
    int memoryBusWidthBits,
    long totalMemoryBytes,
    long freeMemoryBytes,
    boolean simulated) {

  public String computeCapability() {
    return "sm_" + computeMajor + computeMinor;
  }
}
