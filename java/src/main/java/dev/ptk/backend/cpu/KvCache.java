package dev.ptk.backend.cpu;

/**
 * The paged K/V pool, per layer, as bf16 bits. A page id means the same page in every layer, as
 * on the GPU; inside a page the layout is this backend's own: each kv head's slots form one
 * contiguous block of {@code pageSize x headDim} values, V as rows ({@code [slot][dim]}) and K
 * transposed ({@code [dim][slot]}). Attention then widens a page of one kv head with contiguous
 * vector loads and scores a vector of keys per element of q.
 *
 * <p>The shared test vectors hold caches as {@code [pages, pageSize, kvHeads, headDim]} (NHD);
 * {@link #fromNhd} and {@link #toNhd} convert.
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

  /** The first element of kv head {@code kvHead}'s block in page {@code page}, in K and in V. */
  int block(int page, int kvHead) {
    return (page * kvHeads + kvHead) * pageSize * headDim;
  }

  /** Where dim {@code i} of slot {@code slot}'s key lies (dims step by pageSize). */
  int keyAt(int slot, int kvHead, int i) {
    return block(slot / pageSize, kvHead) + i * pageSize + slot % pageSize;
  }

  /** Where dim {@code i} of slot {@code slot}'s value lies (dims step by 1). */
  int valueAt(int slot, int kvHead, int i) {
    return block(slot / pageSize, kvHead) + slot % pageSize * headDim + i;
  }

  /** A one-layer cache holding K and V given as NHD. */
  static KvCache fromNhd(short[] nhdK, short[] nhdV, int pageSize, int kvHeads, int headDim) {
    KvCache c = new KvCache(1, nhdK.length / (pageSize * kvHeads * headDim), pageSize, kvHeads, headDim);
    c.each((nhd, s, h, i) -> {
      c.k[0][c.keyAt(s, h, i)] = nhdK[nhd];
      c.v[0][c.valueAt(s, h, i)] = nhdV[nhd];
    });
    return c;
  }

  /** Layer {@code layer}'s K (values = false) or V as NHD. */
  short[] toNhd(int layer, boolean values) {
    short[] out = new short[k[layer].length];
    each((nhd, s, h, i) -> out[nhd] = values ? v[layer][valueAt(s, h, i)] : k[layer][keyAt(s, h, i)]);
    return out;
  }

  private interface Element {
    void at(int nhd, int slot, int kvHead, int dim);
  }

  private void each(Element e) {
    for (int s = 0, nhd = 0; s < numPages * pageSize; s++) {
      for (int h = 0; h < kvHeads; h++) {
        for (int i = 0; i < headDim; i++) e.at(nhd++, s, h, i);
      }
    }
  }
}
