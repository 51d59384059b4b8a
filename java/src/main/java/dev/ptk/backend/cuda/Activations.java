package dev.ptk.backend.cuda;

import static dev.ptk.nativelib.Native.check;

import dev.ptk.model.ModelConfig;
import dev.ptk.nativelib.global.ptk;
import org.bytedeco.javacpp.Pointer;

/**
 * The step's device buffers, sized for {@code maxTokens} tokens and {@code maxLogitRows} logit rows.
 * One table, the constructor, both counts the bytes (to size the KV pool before anything is
 * allocated) and allocates them, so the two cannot disagree.
 */
final class Activations {
  /** Residual stream [tokens, hidden] f32. */
  final Pointer x;
  /** Normed rows [tokens, hidden] bf16: the input of the qkv and gate/up projections. */
  final Pointer h;
  /** The gated MLP rows bf16(silu(gate) * up) [tokens, intermediate]: the down projection's input. */
  final Pointer gated;
  /** q|k|v after projection and bias [tokens, qkv width] bf16. */
  final Pointer qkv;
  /** Rotated queries [tokens, heads, head dim] bf16. */
  final Pointer q;
  /** Attention output [tokens, heads, head dim] bf16, and its log-sum-exp [tokens, heads] f32. */
  final Pointer attn, lse;
  /** Output of the o and down projections through cuBLAS [tokens, hidden] f32, added to the residual by the next norm. */
  final Pointer delta;
  /** The residual rows' sums of squares in parts [16 rows, ptk_norm_parts(hidden)] f32, for a gemv that norms its input. */
  final Pointer sumsq;
  /** gate|up [tokens, 2 intermediate] f32; also the f32 scratch of a cuBLAS projection with bias. */
  final Pointer wide;
  /** Normed logit rows [logit rows, hidden] bf16 and their logits [logit rows, vocab] f32. */
  final Pointer hLogit, logits;
  /** The step's device metadata (token ids, then logit row ids): 2 ints per token. */
  final Pointer meta;
  /** Sampling keys [path ids | steps] and drawn tokens, per logit row. */
  final Pointer sampleKeys, tokens;
  /** ptk_sample's workspace for every logit row ({@link #sampleWorkBytes}). */
  final Pointer sampleWork;
  final long sampleWorkBytes;
  /** ptk_gemv's split workspace, zeroed by {@link #allocate}. */
  final GemvWorkspace gemvWork;

  private final DeviceMemory memory;
  private long bytes;

  private Activations(ModelConfig c, int maxTokens, int maxLogitRows, DeviceMemory memory) {
    this.memory = memory;
    long t = maxTokens, r = maxLogitRows, heads = (long) c.numHeads() * c.headDim();
    x = take(4 * t * c.hiddenSize());
    h = take(2 * t * c.hiddenSize());
    gated = take(2 * t * c.intermediateSize());
    qkv = take(2 * t * c.qkvWidth());
    q = take(2 * t * heads);
    attn = take(2 * t * heads);
    lse = take(4 * t * c.numHeads());
    delta = take(4 * t * c.hiddenSize());
    sumsq = take(4L * DeviceMatmul.MAX_GEMV_ROWS * ptk.ptk_norm_parts(c.hiddenSize()));
    wide = take(4 * t * wideWidth(c));
    hLogit = take(2 * r * c.hiddenSize());
    logits = take(4 * r * c.vocabSize());
    meta = take(4 * 2 * t);
    sampleKeys = take(4 * 2 * r);
    tokens = take(4 * r);
    sampleWorkBytes = ptk.ptk_sample_workspace_bytes(maxLogitRows);
    sampleWork = take(sampleWorkBytes);
    long gemvWorkBytes = GemvWorkspace.bytes(Projections.of(c));
    gemvWork = new GemvWorkspace(gemvWorkBytes > 0 ? take(gemvWorkBytes) : null, gemvWorkBytes);
  }

  /** The device bytes {@link #allocate} takes. */
  static long bytes(ModelConfig c, int maxTokens, int maxLogitRows) {
    return new Activations(c, maxTokens, maxLogitRows, null).bytes;
  }

  static Activations allocate(ModelConfig c, int maxTokens, int maxLogitRows, DeviceMemory memory) {
    Activations a = new Activations(c, maxTokens, maxLogitRows, memory);
    if (a.gemvWork.at() != null) {
      check(ptk.ptk_memset_zero(a.gemvWork.at(), a.gemvWork.bytes(), null));
      check(ptk.ptk_stream_synchronize(null));
    }
    return a;
  }

  /** Columns of {@link #wide}: gate|up, or the widest projection that goes through cuBLAS with a bias (qkv). */
  static int wideWidth(ModelConfig c) {
    return Math.max(2 * c.intermediateSize(), c.qkvWidth());
  }

  private Pointer take(long size) {
    bytes += size;
    return memory == null ? null : memory.allocate(size);
  }
}
