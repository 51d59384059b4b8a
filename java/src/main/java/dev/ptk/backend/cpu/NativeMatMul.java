package dev.ptk.backend.cpu;

import dev.ptk.model.DType;
import dev.ptk.model.Tensor;
import dev.ptk.nativelib.Native;
import dev.ptk.nativelib.global.ptk;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * The matmul on libptk's CPU kernels (ptk/cpu.h): the workers take slices of the weight rows and
 * each calls the kernel on its slice, with the weights read in place from their buffers (never
 * copied). Once per call x is copied into native memory and prepared there (ptk_cpu_x_prepare,
 * on the calling thread; rounded to bf16 when the precision says so), and y copied out. The
 * copies are shared out among the workers by rows of x once they pass PARALLEL_COPY_FLOATS (in
 * prefill they are tens of MB: y of gate_up at 512 tokens is 37 MB; in decode only the logits of
 * two rows or more), else the calling thread copies alone.
 */
final class NativeMatMul implements MatMul, WorkerPool.RangeTask {
  /** Weight rows per piece of work: an AMX tile and the vector paths' prefill panel, so no slice splits one. */
  private static final int BLOCK = 16;
  /**
   * Floats of x or y from which their copy is shared out among the workers: 1 MB, some 100 us of
   * copying against the few us a parallel region costs.
   */
  static final long PARALLEL_COPY_FLOATS = 1 << 18;

  private final WorkerPool pool;
  private final WeightRows weights;
  private final MatMulScratch scratch;
  private final ActivationPrecision precision;
  private final ShortPointer[] base; // per tensor: its first element
  private final ShortPointer[][] wView; // [worker][tensor]: offset to a slice
  private final FloatPointer bias; // null: no bias
  private final FloatPointer[] biasView;
  private final FloatPointer[] yView;
  private final FloatPointer[] xView;
  private final WorkerPool.RangeTask copyIn = this::copyIn;
  private final WorkerPool.RangeTask copyOut = this::copyOut;

  // the call in progress (set by apply, read by the workers)
  private ptk.ptk_cpu_x x;
  private FloatPointer xNative;
  private FloatPointer y;
  private float[] xHost;
  private float[] out;
  private int outStride;

  /** Whether every weight is bf16 in a direct buffer (as a checkpoint's mmapped tensors are). */
  static boolean accepts(WeightRows weights) {
    for (Tensor t : weights.tensors()) {
      if (t.dtype() != DType.BF16 || !t.data().isDirect()) return false;
    }
    return true;
  }

  NativeMatMul(WorkerPool pool, WeightRows weights, MatMulScratch scratch, ActivationPrecision precision) {
    this.pool = pool;
    this.weights = weights;
    this.scratch = scratch;
    this.precision = precision;
    Tensor[] tensors = weights.tensors();
    base = new ShortPointer[tensors.length];
    for (int i = 0; i < tensors.length; i++) {
      base[i] = new ShortPointer(tensors[i].data().duplicate().clear().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer());
    }
    int workers = pool.size();
    wView = new ShortPointer[workers][tensors.length];
    biasView = new FloatPointer[workers];
    yView = new FloatPointer[workers];
    xView = new FloatPointer[workers];
    float[] b = weights.biasValues();
    bias = b == null ? null : new FloatPointer(b);
    for (int w = 0; w < workers; w++) {
      for (int i = 0; i < tensors.length; i++) wView[w][i] = new ShortPointer(base[i]);
      if (bias != null) biasView[w] = new FloatPointer(bias);
    }
  }

  @Override
  public WeightRows weights() {
    return weights;
  }

  @Override
  public String path() {
    return "native " + NativeCpu.isa() + (precision == ActivationPrecision.BF16 ? ", x in bf16" : "");
  }

  @Override
  public void apply(float[] xHost, int tokens, float[] out, int outStride) {
    if (tokens == 0) return; // e.g. a batch with no logit rows: nothing to write
    int in = weights.in(), rows = weights.rows();
    FloatPointer xNow = scratch.x((long) tokens * in).position(0);
    if (xNow != xNative) viewsOf(xNative = xNow, xView);
    FloatPointer yNow = scratch.y((long) tokens * rows).position(0);
    if (yNow != y) viewsOf(y = yNow, yView);
    this.xHost = xHost;
    this.out = out;
    this.outStride = outStride;
    copy(tokens, (long) tokens * in, copyIn);
    x = scratch.prepare(xNative, tokens, in, precision);
    pool.run((rows + BLOCK - 1) / BLOCK, this);
    copy(tokens, (long) tokens * rows, copyOut);
    x = null;
    this.xHost = this.out = null;
  }

  /** One view of {@code base} per worker: each moves its own position, as the workers do at once. */
  private static void viewsOf(FloatPointer base, FloatPointer[] views) {
    for (int w = 0; w < views.length; w++) views[w] = new FloatPointer(base);
  }

  private void copy(int tokens, long floats, WorkerPool.RangeTask task) {
    if (floats >= PARALLEL_COPY_FLOATS) pool.run(tokens, task);
    else task.run(0, 0, tokens);
  }

  /** Rows [from, to) of x into native memory. */
  private void copyIn(int worker, int from, int to) {
    int in = weights.in();
    xView[worker].position((long) from * in).put(xHost, from * in, (to - from) * in);
  }

  /** Rows [from, to) of y out to the caller's array, at its stride. */
  private void copyOut(int worker, int from, int to) {
    int rows = weights.rows();
    FloatPointer view = yView[worker];
    if (outStride == rows) {
      view.position((long) from * rows).get(out, from * rows, (to - from) * rows);
    } else {
      for (int t = from; t < to; t++) view.position((long) t * rows).get(out, t * outStride, rows);
    }
  }

  @Override
  public void run(int worker, int fromBlock, int toBlock) {
    int in = weights.in(), rows = weights.rows();
    int r = fromBlock * BLOCK, end = Math.min(rows, toBlock * BLOCK);
    while (r < end) {
      int t = weights.tensorOf(r);
      int first = weights.firstRow(t);
      int stop = Math.min(end, first + weights.tensors()[t].dim(0)); // a slice may span q | k | v
      ShortPointer w = wView[worker][t].position(base[t].position() + (long) (r - first) * in);
      FloatPointer b = bias == null ? null : biasView[worker].position(r);
      Native.check(ptk.ptk_cpu_matmul_prepared(x, w, stop - r, b, yView[worker].position(r), rows));
      r = stop;
    }
  }
}
