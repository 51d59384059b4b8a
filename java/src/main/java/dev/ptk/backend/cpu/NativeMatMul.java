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
 * copied). x is copied into native memory and prepared (ptk_cpu_x_prepare) once per call, on the
 * calling thread (rounded to bf16 there when the precision says so), and y copied out of it once;
 * both are small next to the weights (decode) or to the work (prefill).
 */
final class NativeMatMul implements MatMul, WorkerPool.RangeTask {
  /** Weight rows per piece of work: an AMX tile and the vector paths' prefill panel, so no slice splits one. */
  private static final int BLOCK = 16;

  private final WorkerPool pool;
  private final WeightRows weights;
  private final MatMulScratch scratch;
  private final ActivationPrecision precision;
  private final ShortPointer[] base; // per tensor: its first element
  private final ShortPointer[][] wView; // [worker][tensor]: offset to a slice
  private final FloatPointer bias; // null: no bias
  private final FloatPointer[] biasView;
  private final FloatPointer[] yView;

  // the call in progress (set by apply, read by the workers)
  private ptk.ptk_cpu_x x;
  private FloatPointer y;

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
    FloatPointer xNative = scratch.x((long) tokens * in).position(0);
    xNative.put(xHost, 0, tokens * in);
    x = scratch.prepare(xNative, tokens, in, precision);
    FloatPointer yNow = scratch.y((long) tokens * rows).position(0);
    if (yNow != y) {
      y = yNow;
      for (int w = 0; w < yView.length; w++) yView[w] = new FloatPointer(y);
    }
    pool.run((rows + BLOCK - 1) / BLOCK, this);
    if (outStride == rows) {
      y.position(0).get(out, 0, tokens * rows);
    } else {
      for (int t = 0; t < tokens; t++) y.position((long) t * rows).get(out, t * outStride, rows);
      y.position(0);
    }
    x = null;
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
