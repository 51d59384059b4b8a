package dev.ptk.backend.cpu;

import dev.ptk.model.Tensor;

/**
 * The step between the QKV projection and attention: adds the thought embedding (the layer's table
 * row for the token's segment) to K and V of every kv head, rotates Q and K at the token's own
 * position, and writes K and V as bf16 into the token's cache slot. Tokens are shared among the
 * workers (each writes only its own slot).
 */
final class RopeAppend implements WorkerPool.RangeTask {
  private final WorkerPool pool;
  private final int hq, hkv, d;
  private final Rotary rotary;
  private float[] qkv, thought, cos, sin; // the call in progress
  private int[] segmentIds, slots;
  private KvCache cache;
  private short[] kCache, vCache;

  RopeAppend(WorkerPool pool, int hq, int hkv, int d, Rotary rotary) {
    this.pool = pool;
    this.hq = hq;
    this.hkv = hkv;
    this.d = d;
    this.rotary = rotary;
  }

  /**
   * @param qkv {@code [T, (hq + 2 hkv) d]} rows {@code [q heads | k heads | v heads]}; Q is rotated in
   *     place (K and V are changed in place too)
   * @param thought {@code [segments, d]} table, or null for none (zero embedding)
   * @param cos, sin {@code [T, d/2]} angles of each token's position ({@link Rotary#angles})
   * @param slots cache slot per token; a negative slot is not written
   * @param layer the layer of {@code cache} written
   */
  void apply(float[] qkv, int tokens, int[] segmentIds, float[] thought, float[] cos, float[] sin, int[] slots,
      KvCache cache, int layer) {
    this.qkv = qkv;
    this.segmentIds = segmentIds;
    this.thought = thought;
    this.cos = cos;
    this.sin = sin;
    this.slots = slots;
    this.cache = cache;
    this.kCache = cache.keys(layer);
    this.vCache = cache.values(layer);
    pool.run(tokens, this);
  }

  @Override
  public void run(int worker, int from, int to) {
    int width = (hq + 2 * hkv) * d;
    int half = d / 2;
    for (int t = from; t < to; t++) {
      int row = t * width;
      int cs = t * half;
      for (int h = 0; h < hq; h++) rotary.rotate(qkv, row + h * d, cos, sin, cs);
      for (int h = 0; h < hkv; h++) {
        int kOff = row + (hq + h) * d;
        int vOff = row + (hq + hkv + h) * d;
        if (thought != null) {
          int e = segmentIds[t] * d;
          for (int i = 0; i < d; i++) {
            qkv[kOff + i] += thought[e + i];
            qkv[vOff + i] += thought[e + i];
          }
        }
        rotary.rotate(qkv, kOff, cos, sin, cs);
        if (slots[t] < 0) continue;
        for (int i = 0; i < d; i++) {
          kCache[cache.keyAt(slots[t], h, i)] = Tensor.floatToBf16(qkv[kOff + i]);
          vCache[cache.valueAt(slots[t], h, i)] = Tensor.floatToBf16(qkv[vOff + i]);
        }
      }
    }
  }
}
