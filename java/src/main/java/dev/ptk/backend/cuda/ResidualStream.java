package dev.ptk.backend.cuda;

import static dev.ptk.nativelib.Native.check;

import dev.ptk.nativelib.global.ptk;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The residual stream x [tokens, hidden] f32 between a layer's projections, and the RMSNorms taken
 * from it. The o and down projections add into x: ptk_gemv adds as it writes (ptk_gemv_add), a
 * cuBLAS projection writes delta for the next norm to add. The qkv and gate/up projections read
 * norm(x): ptk_gemv norms its input as it reads it (ptk_gemv_rmsnorm*), which needs x current and
 * its sums of squares in parts, written by ptk_gemv_add as it adds or else by ptk_add_sumsq; a
 * cuBLAS projection reads rows normed by ptk_add_rmsnorm. This class keeps track of which of these
 * is pending, so that a step launches only what its projections' choices need: on ptk_gemv
 * throughout, no norm of its own.
 */
final class ResidualStream {
  private final Pointer stream;
  private final FloatPointer x, delta, sumsq;
  private final GemvWorkspace work;
  private final int hidden;
  private final float eps;
  /** delta holds rows still to be added to x. */
  private boolean deltaPending;
  /** sumsq holds the parts of x as it is now. */
  private boolean partsCurrent;

  ResidualStream(Pointer stream, Pointer x, Pointer delta, Pointer sumsq, GemvWorkspace work, int hidden, float eps) {
    this.stream = stream;
    this.x = new FloatPointer(x);
    this.delta = new FloatPointer(delta);
    this.sumsq = new FloatPointer(sumsq);
    this.work = work;
    this.hidden = hidden;
    this.eps = eps;
  }

  FloatPointer x() {
    return x;
  }

  /** x has just been written whole (the tuner's random rows): nothing pending, no parts. */
  void written() {
    deltaPending = false;
    partsCurrent = false;
  }

  /**
   * x = the embedding rows of {@code n} token ids (device ints), with their parts when the next
   * norm is fused ({@code partsNext}): ptk_embedding writes both in one launch.
   */
  void embed(Pointer table, int vocab, IntPointer ids, int n, boolean partsNext) {
    check(ptk.ptk_embedding(table, vocab, hidden, ids, n, x, partsNext ? sumsq : null, stream));
    deltaPending = false;
    partsCurrent = partsNext;
  }

  /**
   * x += in w^T for m rows (w [hidden, k]): by ptk_gemv_add, which also writes the parts when the
   * next norm is fused ({@code partsNext}), or through cuBLAS into delta.
   */
  void add(DeviceMatmul matmul, boolean gemv, Pointer in, Pointer w, int m, int k, boolean partsNext) {
    if (deltaPending) throw new IllegalStateException("a projection into the residual before the last one was added");
    if (gemv) {
      check(ptk.ptk_gemv_add(in, w, x, partsNext ? sumsq : null, m, hidden, k, work.at(), work.bytes(), stream));
      partsCurrent = partsNext;
    } else {
      matmul.run(false, in, w, null, delta, false, m, hidden, k);
      deltaPending = true;  // x, and so its parts, unchanged until the delta is added
    }
  }

  /**
   * Drops the pending delta: x and its parts stay as they were before the projection. For the
   * matmul tuner, which times projections into the residual one after another; a step adds every
   * delta.
   */
  void discardDelta() {
    deltaPending = false;
  }

  /** h = bf16(rmsnorm(x) * weight) for m rows, for a projection that does not norm its own input. */
  void norm(Pointer weight, Pointer h, int m) {
    check(ptk.ptk_add_rmsnorm(x, deltaPending ? delta : null, weight, eps, h, m, hidden, stream));
    partsCurrent &= !deltaPending;
    deltaPending = false;
  }

  /** The parts of x as it is, for a gemv that norms its input (m <= 16 rows). */
  FloatPointer parts(int m) {
    if (deltaPending || !partsCurrent) check(ptk.ptk_add_sumsq(x, deltaPending ? delta : null, sumsq, m, hidden, stream));
    deltaPending = false;
    partsCurrent = true;
    return sumsq;
  }

  /** x current for the head: a pending delta added (by ptk_add_rmsnorm into h, which the head does not read). */
  void finish(Pointer weight, Pointer h, int m) {
    if (deltaPending) norm(weight, h, m);
  }
}
