package dev.ptk.backend.cuda;

import dev.ptk.model.ModelConfig;

/**
 * How many KV pages fit on the device: what is free once the weights and the activations are
 * allocated, less a reserve for the CUDA context, cuBLAS workspaces and graphs, divided by the bytes
 * one page takes in every layer (K and V, bf16).
 */
public final class KvPoolSizing {
  /** Kept free for the runtime, cuBLAS and captured graphs. */
  public static final long DEFAULT_RESERVE_BYTES = 1L << 30;

  private KvPoolSizing() {}

  /** Bytes of one page across all layers: K and V, {@code pageSize} tokens, kv heads x head dim bf16. */
  public static long bytesPerPage(ModelConfig c, int pageSize) {
    return 2L * c.numLayers() * pageSize * c.numKvHeads() * c.headDim() * 2;
  }

  /**
   * The pages to allocate: {@code requested} when it is positive and fits, else as many as fit.
   *
   * @param freeBytes device memory free before the weights are uploaded
   * @throws IllegalStateException naming every term when the weights, the activations or the
   *     requested pages do not fit, or when not even one page fits
   */
  public static int pages(long freeBytes, long weightBytes, long activationBytes, long reserveBytes, long bytesPerPage,
      int requested) {
    if (freeBytes < 0 || weightBytes < 0 || activationBytes < 0 || reserveBytes < 0 || bytesPerPage <= 0) {
      throw new IllegalArgumentException("sizes must be non-negative and bytesPerPage positive");
    }
    long left = freeBytes - weightBytes - activationBytes - reserveBytes;
    long fit = left <= 0 ? 0 : Math.min(left / bytesPerPage, Integer.MAX_VALUE);
    String budget = String.format("%s free on the device, %s weights, %s activations, %s reserve, %s per KV page",
        gib(freeBytes), gib(weightBytes), gib(activationBytes), gib(reserveBytes), mib(bytesPerPage));
    if (requested > 0) {
      if (requested > fit) {
        throw new IllegalStateException("not enough GPU memory for " + requested + " KV pages (" + fit + " fit): " + budget);
      }
      return requested;
    }
    if (fit == 0) throw new IllegalStateException("not enough GPU memory for the model and one KV page: " + budget);
    return (int) fit;
  }

  private static String gib(long bytes) {
    return String.format("%.2f GiB", bytes / 1073741824.0);
  }

  private static String mib(long bytes) {
    return String.format("%.3f MiB", bytes / 1048576.0);
  }
}
