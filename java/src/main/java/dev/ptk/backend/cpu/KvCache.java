package dev.ptk.backend.cpu;

/**
 * The paged K/V pool: per layer, K and V of {@code [numPages, pageSize, kvHeads, headDim]} (NHD)
 * as bf16 bits. Slot {@code s} (= page * pageSize + offset) of kv head {@code h} starts at
 * {@code (s * kvHeads + h) * headDim}. A page id means the same page in every layer.
 */
final class KvCache {
  final int numPages;
  final int pageSize;
  final int kvHeads;
  final int headDim;
  private final short[][] k;
  private final short[][] v;

  KvCache(int layers, int numPages, int pageSize, int kvHeads, int headDim) {
    long size = (long) numPages * pageSize * kvHeads * headDim;
    if (numPages < 1 || pageSize < 1 || size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("numPages " + numPages + " x pageSize " + pageSize + ": pool size out of range");
    }
    this.numPages = numPages;
    this.pageSize = pageSize;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    k = new short[layers][(int) size];
    v = new short[layers][(int) size];
  }

  short[] keys(int layer) {
    return k[layer];
  }

  short[] values(int layer) {
    return v[layer];
  }
}
