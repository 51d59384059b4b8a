package dev.ptk.backend.cuda;

import static dev.ptk.nativelib.Native.check;

import dev.ptk.backend.Backend;
import dev.ptk.backend.BatchChunks;
import dev.ptk.backend.BatchCheck;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.SamplingRequest;
import dev.ptk.model.LayerWeights;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.Tensor;
import dev.ptk.model.Weights;
import dev.ptk.nativelib.CudaEnvironment;
import dev.ptk.nativelib.DeviceInfo;
import dev.ptk.nativelib.Native;
import dev.ptk.nativelib.global.ptk;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The model on one CUDA device through libptk: bf16 weights uploaded once, a bf16 paged KV cache
 * sized from free device memory, an f32 residual stream. Per layer: fused add + RMSNorm, QKV
 * projection (with bias), thought embedding + RoPE + KV append, paged attention, output
 * projection, add + RMSNorm, gate/up projection, SiLU gate, down projection. Projections of more
 * than 16 rows run on ptk_gemm (cuBLAS on a GPU); at 1..16 rows, ptk_gemv or ptk_gemm, whichever
 * was faster on this device at start-up ({@link #matmulChoice()}). A batch of more than
 * {@code maxTokens} tokens runs in chunks. The device may be the sim device: the C ABI is the
 * same, and nothing here depends on which it is.
 *
 * <p>Decode steps (phase 1 at P paths, phase 2) are captured once per shape as a CUDA graph and
 * replayed: each step only re-plans (the plans write their device buffers in place) and uploads
 * its token ids. {@link #sample} then draws on the device and copies back one int per row, no
 * logits. Not thread-safe: one forward at a time.
 */
public final class CudaBackend implements Backend {
  public static final int DEFAULT_MAX_TOKENS = 4096;
  /** Sequences (paths, segments) per attention plan. */
  private static final int MAX_SEQUENCES = 64;
  /** Logit rows computed per lm_head pass (bounded so the logits buffer stays small). */
  private static final long LOGITS_BYTES = 256L << 20;
  /** Device time a matmul timing aims to fill, and the most calls it makes (beside the warm-up). */
  private static final double TIMING_BUDGET_MS = 2.0;
  private static final int TIMED_CALLS = 20;

  private final ModelConfig config;
  private final int pageSize;
  private final int numPages;
  private final int maxTokens;
  private final int maxLogitRows;
  private final String name;
  private final DeviceMemory memory = new DeviceMemory();
  private final List<Layer> layers = new ArrayList<>();
  private final Map<GraphKey, Pointer> graphs = new HashMap<>();
  private long graphLaunches;
  private Pointer stream;
  private DeviceGemm gemm;
  private MatmulChoice matmuls;
  private ptk.ptk_rope_plan rope;
  private final ptk.ptk_attention_plan[] plans = new ptk.ptk_attention_plan[4];
  private Pointer embedding, finalNorm, lmHead;
  private Pointer x, h, qkv, q, attn, lse, delta, wide, hLogit, logits, deviceMeta, sampleKeys, tokens;
  private IntPointer pinnedMeta, pinnedSample;
  private FloatPointer pinnedLogits;
  private int pinnedMetaInts;

  /** A captured step: its shape and the attention kernel variant its plan chose. */
  private record GraphKey(StepShape shape, int variant) {}

  private record Layer(Pointer inputNorm, Pointer qkv, Pointer qkvBias, Pointer thought, Pointer o, Pointer postNorm,
      Pointer gateUp, Pointer down, Pointer k, Pointer v) {}

  /**
   * Opens device 0 and times ptk_gemv against ptk_gemm at the decode shapes. {@code numPages} 0
   * takes every page that fits; a positive value must fit.
   *
   * @throws IllegalStateException when there is no CUDA device or the model does not fit
   */
  public CudaBackend(ModelConfig config, Weights weights, int pageSize, int numPages, int maxTokens) {
    this(config, weights, pageSize, numPages, maxTokens, null);
  }

  /**
   * As above, with {@code matmuls} deciding the decode-shape projections instead of timings
   * ({@link MatmulChoice#gemvUpTo}); null times them on the device.
   */
  public CudaBackend(ModelConfig config, Weights weights, int pageSize, int numPages, int maxTokens, MatmulChoice matmuls) {
    CudaEnvironment env = CudaEnvironment.query();
    if (!env.builtWithCuda()) throw new IllegalStateException("libptk was built without CUDA kernels");
    if (!env.hasDevice()) throw new IllegalStateException("no CUDA device (driver " + CudaEnvironment.versionString(env.driverVersion()) + ")");
    if (weights.layers().size() != config.numLayers()) {
      throw new IllegalArgumentException("weights: " + weights.layers().size() + " layers, config says " + config.numLayers());
    }
    if (maxTokens < StepShape.MAX_DECODE_TOKENS) throw new IllegalArgumentException("maxTokens must be >= 16, got " + maxTokens);
    DeviceInfo device = env.devices().get(0);
    this.config = config;
    this.pageSize = pageSize;
    this.maxTokens = maxTokens;
    this.maxLogitRows = (int) Math.max(StepShape.MAX_DECODE_TOKENS, Math.min(maxTokens, LOGITS_BYTES / (4L * config.vocabSize())));
    this.name = "cuda:0 " + device.name();
    try {
      check(ptk.ptk_set_device(0));
      this.numPages = KvPoolSizing.pages(device.freeMemoryBytes(), weightBytes(weights), activationBytes(),
          KvPoolSizing.DEFAULT_RESERVE_BYTES, KvPoolSizing.bytesPerPage(config, pageSize), numPages);
      stream = new Pointer();
      check(ptk.ptk_stream_create(stream));
      upload(weights);
      allocateActivations();
      createPlans();
      gemm = new DeviceGemm(stream, memory.allocate(DeviceGemm.WORKSPACE_BYTES));
      this.matmuls = matmuls != null ? matmuls : timeMatmuls();
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  private long weightBytes(Weights w) {
    long sum = DeviceMemory.bf16Bytes(w.embedTokens()) + DeviceMemory.bf16Bytes(w.norm());
    if (w.lmHead() != w.embedTokens()) sum += DeviceMemory.bf16Bytes(w.lmHead());
    for (LayerWeights l : w.layers()) {
      for (Tensor t : new Tensor[] {l.inputNorm(), l.qWeight(), l.qBias(), l.kWeight(), l.kBias(), l.vWeight(), l.vBias(),
          l.oWeight(), l.postNorm(), l.gateWeight(), l.upWeight(), l.downWeight(), l.segEmbeddings()}) {
        if (t != null) sum += DeviceMemory.bf16Bytes(t);
      }
    }
    return sum;
  }

  /** Activation buffers for maxTokens tokens and the logits, as allocated below, plus the plans' partial states. */
  private long activationBytes() {
    ModelConfig c = config;
    long perToken = 4L * c.hiddenSize() + 2L * Math.max(c.hiddenSize(), c.intermediateSize()) + 2L * c.qkvWidth()
        + 2L * c.numHeads() * c.headDim() * 2 + 4L * c.numHeads() + 4L * c.hiddenSize() + 4L * wideWidth() + 8;
    long partialStates = 4L * 1024 * 64 * c.numKvHeads() * (c.headDim() + 1) * 4;
    long perLogitRow = 4L * c.vocabSize() + 2L * c.hiddenSize() + 12;  // logits, normed row, path + step + token
    return perToken * maxTokens + maxLogitRows * perLogitRow + partialStates + DeviceGemm.WORKSPACE_BYTES;
  }

  private int wideWidth() {
    return Math.max(2 * config.intermediateSize(), config.qkvWidth());
  }

  private void upload(Weights w) {
    int h = config.hiddenSize();
    embedding = memory.upload(stream, require(w.embedTokens(), config.vocabSize(), h));
    finalNorm = memory.upload(stream, require(w.norm(), h));
    lmHead = w.lmHead() == w.embedTokens() ? embedding : memory.upload(stream, require(w.lmHead(), config.vocabSize(), h));
    long kvBytes = (long) numPages * pageSize * config.numKvHeads() * config.headDim() * 2;
    int hd = config.headDim(), qd = config.numHeads() * hd, kd = config.numKvHeads() * hd, inter = config.intermediateSize();
    for (LayerWeights l : w.layers()) {
      Tensor seg = l.segEmbeddings();
      if (seg != null && (seg.shape().length != 2 || seg.dim(0) < config.maxSegments() || seg.dim(1) != hd)) {
        throw new IllegalArgumentException(seg + ": expected [" + config.maxSegments() + ", " + hd + "]");
      }
      layers.add(new Layer(
          memory.upload(stream, require(l.inputNorm(), h)),
          memory.upload(stream, require(l.qWeight(), qd, h), require(l.kWeight(), kd, h), require(l.vWeight(), kd, h)),
          memory.upload(stream, require(l.qBias(), qd), require(l.kBias(), kd), require(l.vBias(), kd)),
          seg == null ? null : memory.upload(stream, seg),
          memory.upload(stream, require(l.oWeight(), h, qd)),
          memory.upload(stream, require(l.postNorm(), h)),
          memory.upload(stream, require(l.gateWeight(), inter, h), require(l.upWeight(), inter, h)),
          memory.upload(stream, require(l.downWeight(), h, inter)),
          memory.allocate(kvBytes),
          memory.allocate(kvBytes)));
    }
  }

  private static Tensor require(Tensor t, long... shape) {
    if (t == null) throw new IllegalArgumentException("a tensor of shape " + java.util.Arrays.toString(shape) + " is missing");
    if (!java.util.Arrays.equals(t.shape(), shape)) {
      throw new IllegalArgumentException(t + ": expected " + java.util.Arrays.toString(shape));
    }
    return t;
  }

  private void allocateActivations() {
    ModelConfig c = config;
    long t = maxTokens;
    x = memory.allocate(4 * t * c.hiddenSize());
    h = memory.allocate(2 * t * Math.max(c.hiddenSize(), c.intermediateSize()));
    qkv = memory.allocate(2 * t * c.qkvWidth());
    q = memory.allocate(2 * t * c.numHeads() * c.headDim());
    attn = memory.allocate(2 * t * c.numHeads() * c.headDim());
    lse = memory.allocate(4 * t * c.numHeads());
    delta = memory.allocate(4 * t * c.hiddenSize());
    wide = memory.allocate(4 * t * wideWidth());
    hLogit = memory.allocate(2L * maxLogitRows * c.hiddenSize());
    logits = memory.allocate(4L * maxLogitRows * c.vocabSize());
    deviceMeta = memory.allocate(4 * 2 * t);
    sampleKeys = memory.allocate(4L * 2 * maxLogitRows);
    tokens = memory.allocate(4L * maxLogitRows);
    Pointer p = new Pointer();
    check(ptk.ptk_malloc_host(p, 4L * maxLogitRows * c.vocabSize()));
    pinnedLogits = new FloatPointer(p).capacity((long) maxLogitRows * c.vocabSize());
    p = new Pointer();
    check(ptk.ptk_malloc_host(p, 4L * 2 * maxLogitRows));
    pinnedSample = new IntPointer(p).capacity(2L * maxLogitRows);
  }

  private void createPlans() {
    try (ptk.ptk_kv_layout layout = new ptk.ptk_kv_layout();
        ptk.ptk_rope_config rc = new ptk.ptk_rope_config();
        ptk.ptk_plan_limits limits = new ptk.ptk_plan_limits()) {
      layout.num_qo_heads(config.numHeads()).num_kv_heads(config.numKvHeads()).head_dim(config.headDim())
          .page_size(pageSize).num_pages(numPages);
      rc.theta(config.ropeTheta()).yarn_factor(config.ropeScaling().factor())
          .yarn_original_max(config.ropeScaling().originalMaxPositions())
          .beta_fast(config.ropeScaling().betaFast()).beta_slow(config.ropeScaling().betaSlow());
      rope = new ptk.ptk_rope_plan();
      int segments = config.maxSegments() > 0 ? config.maxSegments() : Integer.MAX_VALUE;
      check(ptk.ptk_rope_plan_create(layout, rc, segments, maxTokens, rope));
      for (int i = 0; i < plans.length; i++) {
        boolean decode = i % 2 == 1;  // eager prefill, phase 1, eager summary, phase 2
        limits.max_queries(decode ? StepShape.MAX_DECODE_TOKENS : maxTokens).max_sequences(MAX_SEQUENCES)
            .max_pages(2 * numPages).max_work_items(0).num_multiprocessors(0);
        plans[i] = new ptk.ptk_attention_plan();
        check(ptk.ptk_attention_plan_create(layout, limits, plans[i]));
      }
    }
  }

  @Override
  public ModelConfig config() {
    return config;
  }

  @Override
  public int pageSize() {
    return pageSize;
  }

  @Override
  public int numPages() {
    return numPages;
  }

  @Override
  public String describe() {
    return name;
  }

  @Override
  public float[][] forward(ForwardBatch batch) {
    float[][] out = new float[batch.logitRows().length][];
    for (BatchChunks.Chunk chunk : chunks(batch)) {
      float[][] part = new float[chunk.rows().length][];
      run(chunk.batch(), (first, count) -> copyLogits(part, first, count));
      for (int i = 0; i < part.length; i++) out[chunk.rows()[i]] = part[i];
    }
    return out;
  }

  /**
   * The model, then ptk_sample on the device logits; only the token ids come back. The sampling
   * launch follows the graph replay rather than being captured in it: its parameters (seed,
   * temperature, top-k, top-p) are launch arguments and differ between requests, while a graph is
   * keyed by shape only.
   */
  @Override
  public int[] sample(ForwardBatch batch, SamplingRequest request) {
    request.requireRowsOf(batch);
    int[] out = new int[batch.logitRows().length];
    try (ptk.ptk_sampling_params params = samplingParams(request.params())) {
      for (BatchChunks.Chunk chunk : chunks(batch)) {
        SamplingRequest keys = chunk.select(request);
        int[] part = new int[chunk.rows().length];
        run(chunk.batch(), (first, count) -> drawTokens(params, keys, part, first, count));
        for (int i = 0; i < part.length; i++) out[chunk.rows()[i]] = part[i];
      }
    }
    return out;
  }

  /** The batch, checked whole, in parts of at most maxTokens tokens (a long prompt is prefilled in chunks). */
  private List<BatchChunks.Chunk> chunks(ForwardBatch batch) {
    BatchCheck.check(batch, config, numPages, pageSize);
    return BatchChunks.split(batch, maxTokens, pageSize);
  }

  /** Receives the logits of rows {@code [first, first + count)}, at the start of the device logits buffer. */
  private interface LogitRows {
    void ready(int first, int count);
  }

  private void run(ForwardBatch batch, LogitRows rowsReady) {
    int n = batch.size();  // <= maxTokens, and so are the rows (distinct tokens): metadata holds n + rows <= 2 maxTokens ints
    StepShape shape = StepShape.of(batch);
    StepMetadata meta = StepMetadata.pack(batch, shape, pageSize);
    ptk.ptk_attention_plan plan = plans[(shape.kind() == StepShape.Kind.SUMMARY ? 2 : 0) + (shape.decode() ? 1 : 0)];
    upload(meta);
    check(ptk.ptk_rope_plan_update(rope, n, at(meta.positionsAt()), at(meta.segmentIdsAt()), at(meta.slotsAt()), stream));
    if (shape.kind() == StepShape.Kind.PREFILL) {
      check(ptk.ptk_attention_plan_prefill(plan, meta.numTables(), at(meta.qoIndptrAt()), at(meta.prefixAt()),
          meta.prefixLen(), at(meta.indptrAt()), at(meta.indicesAt()), at(meta.lastPageLenAt()), stream));
    } else {
      check(ptk.ptk_attention_plan_summary(plan, meta.numTables(), at(meta.indptrAt()), at(meta.indicesAt()),
          at(meta.lastPageLenAt()), n, stream));
    }
    int rows = batch.logitRows().length;
    if (shape.decode()) {
      check(ptk.ptk_graph_launch(graph(shape, plan, meta), stream));
      graphLaunches++;
      if (rows > 0) rowsReady.ready(0, rows);
    } else {
      layers(n, plan);
      for (int first = 0; first < rows; first += maxLogitRows) {
        int count = Math.min(maxLogitRows, rows - first);
        head(meta.logitRowsAt() + first, count);
        rowsReady.ready(first, count);
      }
    }
    // The row callbacks synchronize; a step without rows waits here, so that the next step may
    // rewrite the pinned metadata this one's copies read.
    if (rows == 0) check(ptk.ptk_stream_synchronize(stream));
  }

  /** The step's graph, captured on first use of its shape: the layers and the head over every logit row. */
  private Pointer graph(StepShape shape, ptk.ptk_attention_plan plan, StepMetadata meta) {
    int variant;
    try (ptk.ptk_attention_plan_info info = new ptk.ptk_attention_plan_info()) {
      check(ptk.ptk_attention_plan_info_get(plan, info));
      variant = info.variant();
    }
    GraphKey key = new GraphKey(shape, variant);
    Pointer g = graphs.get(key);
    if (g != null) return g;
    check(ptk.ptk_graph_begin_capture(stream));
    boolean captured = false;
    try {
      layers(shape.tokens(), plan);
      if (shape.logitRows() > 0) head(meta.logitRowsAt(), shape.logitRows());
      captured = true;
    } finally {
      g = new Pointer();
      int status = ptk.ptk_graph_end_capture(stream, g);  // ends the capture even when a launch failed
      if (captured) {
        check(status);
      } else {
        ptk.ptk_graph_destroy(g);  // a partial graph; the launch's own error propagates, not this one's
      }
    }
    graphs.put(key, g);
    return g;
  }

  private void layers(int n, ptk.ptk_attention_plan plan) {
    ModelConfig c = config;
    int hidden = c.hiddenSize(), inter = c.intermediateSize(), qd = c.numHeads() * c.headDim();
    float eps = (float) c.rmsNormEps();
    FloatPointer xf = new FloatPointer(x), deltaf = new FloatPointer(delta), widef = new FloatPointer(wide);
    check(ptk.ptk_embedding(embedding, c.vocabSize(), hidden, new IntPointer(deviceMeta), n, xf, stream));
    for (int l = 0; l < layers.size(); l++) {
      Layer w = layers.get(l);
      check(ptk.ptk_add_rmsnorm(xf, l == 0 ? null : deltaf, w.inputNorm, eps, h, n, hidden, stream));
      matmul(h, w.qkv, w.qkvBias, qkv, true, n, c.qkvWidth(), hidden);
      check(ptk.ptk_rope_append(rope, qkv, w.thought, q, w.k, w.v, stream));
      check(ptk.ptk_attention_run(plan, q, w.k, w.v, 0f, attn, ptk.PTK_DTYPE_BF16, new FloatPointer(lse), stream));
      matmul(attn, w.o, null, delta, false, n, hidden, qd);
      check(ptk.ptk_add_rmsnorm(xf, deltaf, w.postNorm, eps, h, n, hidden, stream));
      matmul(h, w.gateUp, null, wide, false, n, 2 * inter, hidden);
      check(ptk.ptk_silu_mul(widef, h, n, inter, stream));
      matmul(h, w.down, null, delta, false, n, hidden, inter);
    }
    // The last residual add; the normalized rows it also writes are recomputed by head() for the logit rows only.
    check(ptk.ptk_add_rmsnorm(xf, deltaf, finalNorm, eps, h, n, hidden, stream));
  }

  /** Final norm and lm_head for {@code count} rows whose ids start at int {@code rowIdsAt} of the device metadata. */
  private void head(int rowIdsAt, int count) {
    int hidden = config.hiddenSize();
    check(ptk.ptk_rmsnorm_rows(new FloatPointer(x), new IntPointer(deviceMeta).position(rowIdsAt), finalNorm,
        (float) config.rmsNormEps(), hLogit, count, hidden, stream));
    matmul(hLogit, lmHead, null, logits, false, count, config.vocabSize(), hidden);
  }

  /** y = x w^T (+ bias), by the implementation chosen for its shape. */
  private void matmul(Pointer in, Pointer w, Pointer bias, Pointer out, boolean outBf16, int m, int n, int k) {
    matmul(matmuls.gemv(m, n, k), in, w, bias, out, outBf16, m, n, k);
  }

  /** y = x w^T (+ bias) through ptk_gemv (at most 16 rows), or ptk_gemm in f32 then bias and bf16 rounding. */
  private void matmul(boolean gemv, Pointer in, Pointer w, Pointer bias, Pointer out, boolean outBf16, int m, int n, int k) {
    if (gemv) {
      check(ptk.ptk_gemv(in, w, bias, out, outBf16 ? ptk.PTK_DTYPE_BF16 : ptk.PTK_DTYPE_F32, m, n, k, stream));
    } else if (outBf16) {
      gemm.matmul(in, w, wide, m, n, k);
      check(ptk.ptk_bias_to_bf16(new FloatPointer(wide), bias, out, m, n, stream));
    } else {
      gemm.matmul(in, w, out, m, n, k);
    }
  }

  /** The model's projections, as {@link #layers} and {@link #head} run them. */
  private List<MatmulChoice.Projection> projections() {
    ModelConfig c = config;
    int hidden = c.hiddenSize();
    return List.of(new MatmulChoice.Projection("qkv", c.qkvWidth(), hidden),
        new MatmulChoice.Projection("o", hidden, c.numHeads() * c.headDim()),
        new MatmulChoice.Projection("gate_up", 2 * c.intermediateSize(), hidden),
        new MatmulChoice.Projection("down", hidden, c.intermediateSize()),
        new MatmulChoice.Projection("lm_head", c.vocabSize(), hidden));
  }

  /** Each projection at 1..16 rows through both implementations, on random inputs, timed with one pair of events. */
  private MatmulChoice timeMatmuls() {
    fillRandomBf16(h, (long) StepShape.MAX_DECODE_TOKENS * Math.max(config.hiddenSize(), config.intermediateSize()));
    fillRandomBf16(attn, (long) StepShape.MAX_DECODE_TOKENS * config.numHeads() * config.headDim());
    fillRandomBf16(hLogit, (long) StepShape.MAX_DECODE_TOKENS * config.hiddenSize());
    Pointer start = new Pointer(), end = new Pointer();
    try {
      check(ptk.ptk_event_create(start));
      check(ptk.ptk_event_create(end));
      return MatmulChoice.measure(projections(), StepShape.MAX_DECODE_TOKENS, (p, m, gemv) -> micros(p, m, gemv, start, end));
    } finally {
      ptk.ptk_event_destroy(start);
      ptk.ptk_event_destroy(end);
    }
  }

  /**
   * One call of a projection at {@code m} rows, on layer 0's weights and the buffers layers() uses:
   * after one untimed warm-up call (first-launch costs: module loading, cuBLAS's heuristics), one
   * timed call says how many more fit in {@link #TIMING_BUDGET_MS}, at most {@link #TIMED_CALLS},
   * which are then timed together. On a GPU that is every call; on a device a thousand times slower
   * (the sim) none, so that start-up stays short there too.
   */
  private double micros(MatmulChoice.Projection p, int m, boolean gemv, Pointer start, Pointer end) {
    Layer l = layers.get(0);
    Runnable call = switch (p.name()) {
      case "qkv" -> () -> matmul(gemv, h, l.qkv, l.qkvBias, qkv, true, m, p.n(), p.k());
      case "o" -> () -> matmul(gemv, attn, l.o, null, delta, false, m, p.n(), p.k());
      case "gate_up" -> () -> matmul(gemv, h, l.gateUp, null, wide, false, m, p.n(), p.k());
      case "down" -> () -> matmul(gemv, h, l.down, null, delta, false, m, p.n(), p.k());
      case "lm_head" -> () -> matmul(gemv, hLogit, lmHead, null, logits, false, m, p.n(), p.k());
      default -> throw new IllegalArgumentException("no projection " + p.name());
    };
    call.run();
    double probeMs = elapsedMs(call, 1, start, end);
    int calls = (int) Math.min(TIMED_CALLS, TIMING_BUDGET_MS / probeMs);
    if (calls <= 1) return probeMs * 1000.0;
    return elapsedMs(call, calls, start, end) * 1000.0 / calls;
  }

  /** Milliseconds of device time that {@code calls} back-to-back calls take. */
  private double elapsedMs(Runnable call, int calls, Pointer start, Pointer end) {
    check(ptk.ptk_event_record(start, stream));
    for (int i = 0; i < calls; i++) call.run();
    check(ptk.ptk_event_record(end, stream));
    float[] ms = new float[1];
    check(ptk.ptk_event_elapsed_ms(start, end, ms));
    return ms[0];
  }

  /** Normal bf16 values into the first {@code count} elements of a buffer: timings on zeros flatter tensor cores. */
  private void fillRandomBf16(Pointer buffer, long count) {
    SplittableRandom random = new SplittableRandom(count);
    short[] values = new short[Math.toIntExact(count)];
    for (int i = 0; i < values.length; i++) {
      values[i] = (short) (Float.floatToRawIntBits((float) random.nextGaussian()) >>> 16);  // truncated to bf16
    }
    try (ShortPointer host = new ShortPointer(values)) {
      check(ptk.ptk_copy_to_device(buffer, host, 2 * count, stream));
      check(ptk.ptk_stream_synchronize(stream));
    }
  }

  /** The device's free memory now (what a run of requests must not shrink). */
  public long deviceFreeBytes() {
    try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
      check(ptk.ptk_mem_info(free, total));
      return free.get();
    }
  }

  /** The decode-shape projections timed at start-up, and which implementation each runs. */
  public MatmulChoice matmulChoice() {
    return matmuls;
  }

  /** Decode-step graphs captured so far: one per step shape (and attention kernel variant). */
  public int capturedGraphs() {
    return graphs.size();
  }

  /** Decode steps run by replaying a captured graph, the first step of each shape included. */
  public long graphLaunches() {
    return graphLaunches;
  }

  /** The step's metadata into the pinned buffer; its device part (token and logit row ids) up in one copy. */
  private void upload(StepMetadata meta) {
    int[] data = meta.data();
    if (data.length > pinnedMetaInts) {
      if (pinnedMeta != null) check(ptk.ptk_free_host(pinnedMeta));
      pinnedMeta = null;
      int ints = Math.max(data.length, 2 * pinnedMetaInts);
      Pointer p = new Pointer();
      check(ptk.ptk_malloc_host(p, 4L * ints));
      pinnedMeta = new IntPointer(p).capacity(ints);
      pinnedMetaInts = ints;
    }
    pinnedMeta.position(0).put(data, 0, data.length);
    check(ptk.ptk_copy_to_device(deviceMeta, pinnedMeta, 4L * meta.deviceInts(), stream));
  }

  /** A host pointer to int {@code offset} of the pinned metadata. */
  private IntPointer at(int offset) {
    return new IntPointer(pinnedMeta).position(offset);
  }

  private void copyLogits(float[][] out, int first, int count) {
    int v = config.vocabSize();
    check(ptk.ptk_copy_to_host(pinnedLogits, logits, 4L * count * v, stream));
    check(ptk.ptk_stream_synchronize(stream));
    for (int r = 0; r < count; r++) {
      out[first + r] = new float[v];
      pinnedLogits.position((long) r * v).get(out[first + r], 0, v);
    }
    pinnedLogits.position(0);
  }

  /** The device's sampling parameters; greedy is temperature 0 there. */
  private static ptk.ptk_sampling_params samplingParams(SamplingParams p) {
    return new ptk.ptk_sampling_params().temperature(p.isGreedy() ? 0f : (float) p.temperature()).top_k(p.topK())
        .top_p((float) p.topP()).seed(p.seed());
  }

  /** Uploads the rows' (path, step) keys, samples on the device and copies back the token ids alone. */
  private void drawTokens(ptk.ptk_sampling_params params, SamplingRequest request, int[] out, int first, int count) {
    pinnedSample.position(count).put(request.steps(), first, count);
    pinnedSample.position(0).put(request.pathIds(), first, count);  // [path ids | steps], from position 0
    check(ptk.ptk_copy_to_device(sampleKeys, pinnedSample, 8L * count, stream));
    check(ptk.ptk_sample(new FloatPointer(logits), count, config.vocabSize(), params, new IntPointer(sampleKeys),
        new IntPointer(sampleKeys).position(count), new IntPointer(tokens), stream));
    check(ptk.ptk_copy_to_host(pinnedSample, tokens, 4L * count, stream));
    check(ptk.ptk_stream_synchronize(stream));
    pinnedSample.get(out, first, count);
  }

  @Override
  public void close() {
    for (Pointer g : graphs.values()) ptk.ptk_graph_destroy(g);
    graphs.clear();
    for (int i = 0; i < plans.length; i++) {
      if (plans[i] != null) ptk.ptk_attention_plan_destroy(plans[i]);
      plans[i] = null;
    }
    if (rope != null) ptk.ptk_rope_plan_destroy(rope);
    rope = null;
    if (gemm != null) gemm.close();
    gemm = null;
    if (pinnedMeta != null) ptk.ptk_free_host(pinnedMeta);
    if (pinnedLogits != null) ptk.ptk_free_host(pinnedLogits);
    if (pinnedSample != null) ptk.ptk_free_host(pinnedSample);
    pinnedMeta = null;
    pinnedLogits = null;
    pinnedSample = null;
    pinnedMetaInts = 0;
    try {
      memory.close();
    } finally {  // a failed cudaFree must not leak the stream
      if (stream != null) ptk.ptk_stream_destroy(stream);
      stream = null;
    }
  }
}
