package dev.ptk.nativelib;

/** One CUDA device as libptk sees it. */
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
    long freeMemoryBytes) {

  public String computeCapability() {
    return "sm_" + computeMajor + computeMinor;
  }
}
