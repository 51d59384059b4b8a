package dev.ptk.backend.cuda;

import static dev.ptk.nativelib.Native.check;

import dev.ptk.backend.Backend;
import dev.ptk.backend.BatchChunks;
import dev.ptk.backend.BatchCheck;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.SamplingRequest;
import dev.ptk.model.DType;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.Weights;
import dev.ptk.nativelib.CudaEnvironment;
import dev.ptk.nativelib.DeviceInfo;
import dev.ptk.nativelib.Native;
import dev.ptk.nativelib.global.ptk;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The model on one CUDA device through libptk: bf16 weights uploaded once, a bf16 paged KV cache
 * sized from free device memory, an f32 residual stream. Per layer: add + RMSNorm, QKV projection
 * (with bias), thought embedding + RoPE + KV append, paged attention, output projection, add +
 * RMSNorm, gate/up projection and SiLU gate, down projection. Projections of more than 16 rows run
 * on ptk_gemm (cuBLAS on a GPU); at 1..16 rows, ptk_gemv or ptk_gemm, whichever was faster on this
 * device at start-up ({@link #matmulChoice()}, timed by {@link MatmulTuner}). On ptk_gemv the
 * residual adds and norms ride on the projections ({@link ResidualStream}) and qkv appends as it
 * writes: in a decode step 5 launches per layer (qkv + RoPE + append, attention with its merge
 * fused, o, gate/up + SiLU, down), the embedding writing the first norm's parts and lm_head
 * norming its rows; a prefill's attention adds a merge pass. A batch of more than
 * {@code maxTokens} tokens runs in chunks. The device may be the sim device: the C ABI is the
 * same, and nothing here depends on which it is.
 *
 * <p>Every batch, whatever requests and phases its rows come from, is one pass with one ragged
 * attention plan. Decode steps (one token per group: phase-1 rows, summary rows) are captured
 * once per shape as a CUDA graph and replayed: each step only re-plans (the plans write their
 * device buffers in place) and uploads its token ids. {@link #sample} then draws on the device
 * and copies back one int per row, no
 * logits. Not thread-safe: one forward at a time.
 *
 * <p>The parts, each in its own class: {@link DeviceWeights} (the weights on the device),
 * {@link Activations} (the step's buffers, one table that also sizes the KV pool),
 * {@link DeviceMatmul} and {@link MatmulTuner} (the projections and their choice),
 * {@link ResidualStream} (the residual adds and norms between them); this class is the step itself.
 */
public final class CudaBackend implements Backend {
  public static final int DEFAULT_MAX_TOKENS = 4096;
  /**
   * Segments per step beyond one own segment per group: the prompts and paths the groups see (64
   * requests of 16 paths). No device memory depends on it; a step's groups (a token each at
   * least) are bounded by maxTokens.
   */
  private static final int MAX_SEEN_SEGMENTS = 64 * 17;
  /** Logit rows computed per lm_head pass (bounded so the logits buffer stays small). */
  private static final long LOGITS_BYTES = 256L << 20;
  /** Device bytes of the two attention plans' partial states at their default work-item limit. */
  private static final long PLAN_BYTES = 2L * 1024 * 64 * 4;

  private final ModelConfig config;
  private final int pageSize;
  private final int numPages;
  private final int maxTokens;
  private final int maxLogitRows;
  private final String name;
  private final DeviceMemory memory = new DeviceMemory();
  private final Map<GraphKey, Pointer> graphs = new HashMap<>();
  private long graphLaunches;
  private int lastGraphNodes;
  private Pointer stream;
  private DeviceWeights weights;
  private Activations a;
  private ResidualStream residual;
  private final List<Pointer> kCache = new ArrayList<>(), vCache = new ArrayList<>();
  private DeviceGemm gemm;
  private DeviceMatmul matmul;
  private MatmulChoice matmuls;
  private final Projections projections;
  private ptk.ptk_rope_plan rope;
  /** Eager steps, decode steps: a captured graph's attention run reads the decode plan's buffers. */
  private final ptk.ptk_attention_plan[] plans = new ptk.ptk_attention_plan[2];
  private IntPointer pinnedMeta, pinnedSample;
  private FloatPointer pinnedLogits;
  private int pinnedMetaInts;

  /** A captured step: its shape and the attention kernel variant its plan chose. */
  private record GraphKey(StepShape shape, int variant) {}

  /**
   * The most logit rows for which lm_head norms its own input in a decode graph (one node fewer).
   * Each of its 4,748 blocks stages every row from L2 as f32 where the norm is fused (bf16 else):
   * by bench/gpu/step_model.py that costs nothing up to 8 rows and ~20 us a step at 16, where L2
   * rather than the weights bounds it. A prediction, for the device to confirm.
   */
  private static final int HEAD_NORMS_MAX_ROWS = 8;

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
    if (maxTokens < StepShape.MAX_DECODE_TOKENS) {
      throw new IllegalArgumentException("maxTokens must be >= " + StepShape.MAX_DECODE_TOKENS + ", got " + maxTokens);
    }
    DeviceInfo device = env.devices().get(0);
    this.config = config;
    this.projections = Projections.of(config);
    this.pageSize = pageSize;
    this.maxTokens = maxTokens;
    this.maxLogitRows = (int) Math.max(StepShape.MAX_DECODE_TOKENS, Math.min(maxTokens, LOGITS_BYTES / (4L * config.vocabSize())));
    this.name = "cuda:0 " + device.name();
    try {
      check(ptk.ptk_set_device(0));
      long planBytes = PLAN_BYTES * config.numKvHeads() * (config.headDim() + 1);
      long activationBytes = Activations.bytes(config, maxTokens, maxLogitRows) + planBytes + DeviceGemm.WORKSPACE_BYTES;
      this.numPages = KvPoolSizing.pages(device.freeMemoryBytes(), DeviceWeights.bytes(weights), activationBytes,
          KvPoolSizing.DEFAULT_RESERVE_BYTES, KvPoolSizing.bytesPerPage(config, pageSize), numPages);
      stream = new Pointer();
      check(ptk.ptk_stream_create(stream));
      this.weights = DeviceWeights.upload(config, weights, memory, stream);
      long kvBytes = (long) this.numPages * pageSize * config.numKvHeads() * config.headDim() * 2;
      for (int l = 0; l < config.numLayers(); l++) {
        kCache.add(memory.allocate(kvBytes));
        vCache.add(memory.allocate(kvBytes));
      }
      a = Activations.allocate(config, maxTokens, maxLogitRows, memory);
      residual = new ResidualStream(stream, a.x, a.delta, a.sumsq, a.gemvWork, config.hiddenSize(),
          (float) config.rmsNormEps());
      allocatePinned();
      createPlans();
      gemm = new DeviceGemm(stream, memory.allocate(DeviceGemm.WORKSPACE_BYTES));
      matmul = new DeviceMatmul(stream, gemm, a.wide, a.gemvWork);
      this.matmuls = matmuls != null ? matmuls : new MatmulTuner(stream).tune(sites(), StepShape.MAX_DECODE_TOKENS);
    } catch (RuntimeException | Error e) {
      close();
      throw e;
    }
  }

  private void allocatePinned() {
    Pointer p = new Pointer();
    check(ptk.ptk_malloc_host(p, 4L * maxLogitRows * config.vocabSize()));
    pinnedLogits = new FloatPointer(p).capacity((long) maxLogitRows * config.vocabSize());
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
        boolean decode = i == 1;
        limits.max_queries(decode ? StepShape.MAX_DECODE_TOKENS : maxTokens).max_sequences(maxTokens + MAX_SEEN_SEGMENTS)
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
    for (BatchChunks.Chunk chunk : chunks(batch)) {
      SamplingRequest keys = chunk.select(request);
      int[] part = new int[chunk.rows().length];
      run(chunk.batch(), (first, count) -> drawTokens(keys, part, first, count));
      for (int i = 0; i < part.length; i++) out[chunk.rows()[i]] = part[i];
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
    StepMetadata meta = StepMetadata.pack(batch, pageSize);
    ptk.ptk_attention_plan plan = plans[shape.decode() ? 1 : 0];
    upload(meta);
    check(ptk.ptk_rope_plan_update(rope, n, at(meta.positionsAt()), at(meta.segmentIdsAt()), at(meta.slotsAt()), stream));
    check(ptk.ptk_attention_plan_ragged(plan, meta.numGroups(), at(meta.qoIndptrAt()), at(meta.groupIndptrAt()),
        at(meta.groupSegmentsAt()), meta.numSegments(), at(meta.segIndptrAt()), at(meta.indicesAt()),
        at(meta.lastPageLenAt()), stream));
    int rows = batch.logitRows().length;
    if (shape.decode()) {
      Pointer g = graph(shape, plan, meta);
      check(ptk.ptk_graph_launch(g, stream));
      graphLaunches++;
      lastGraphNodes = nodes(g);
      if (rows > 0) rowsReady.ready(0, rows);
    } else {
      layers(n, plan, false);
      for (int first = 0; first < rows; first += maxLogitRows) {
        int count = Math.min(maxLogitRows, rows - first);
        head(meta.logitRowsAt() + first, count, false);
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
      int rows = shape.logitRows();
      boolean headNorms = shape.everyRowInOrder() && rows <= HEAD_NORMS_MAX_ROWS && matmuls.gemv(projections.lmHead(), rows);
      layers(shape.tokens(), plan, headNorms);
      if (rows > 0) head(meta.logitRowsAt(), rows, headNorms);
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

  /** The layers over n tokens; {@code headNorms}: the last one leaves the parts the head's fused norm reads. */
  private void layers(int n, ptk.ptk_attention_plan plan, boolean headNorms) {
    ModelConfig c = config;
    int inter = c.intermediateSize(), qd = c.numHeads() * c.headDim();
    Projections p = projections;
    boolean qkvGemv = matmuls.gemv(p.qkv(), n), oGemv = matmuls.gemv(p.o(), n);
    boolean gateUpGemv = matmuls.gemv(p.gateUp(), n), downGemv = matmuls.gemv(p.down(), n);
    residual.embed(weights.embedding, c.vocabSize(), new IntPointer(a.meta), n, qkvGemv);
    for (int l = 0; l < weights.layers.size(); l++) {
      DeviceWeights.Layer w = weights.layers.get(l);
      qkvAppend(l, n, qkvGemv);
      check(ptk.ptk_attention_run(plan, a.q, kCache.get(l), vCache.get(l), 0f, a.attn, ptk.PTK_DTYPE_BF16,
          new FloatPointer(a.lse), stream));
      residual.add(matmul, oGemv, a.attn, w.o(), n, qd, gateUpGemv);
      gateUp(w, n, gateUpGemv);
      boolean last = l == weights.layers.size() - 1;
      residual.add(matmul, downGemv, a.gated, w.down(), n, inter, last ? headNorms : qkvGemv);
    }
    residual.finish(weights.finalNorm, a.h, n);  // head() norms the logit rows only
  }

  /**
   * Final norm and lm_head for {@code count} rows whose ids start at int {@code rowIdsAt} of the
   * device metadata: the rows gathered and normed, then the projection; or, when the rows are
   * every token in order ({@code norms}), ptk_gemv norming the residual rows as it reads them.
   */
  private void head(int rowIdsAt, int count, boolean norms) {
    int hidden = config.hiddenSize();
    if (norms) {
      check(ptk.ptk_gemv_rmsnorm(residual.x(), residual.parts(count), weights.finalNorm, (float) config.rmsNormEps(),
          weights.lmHead, null, a.logits, ptk.PTK_DTYPE_F32, count, config.vocabSize(), hidden, a.gemvWork.at(),
          a.gemvWork.bytes(), stream));
      return;
    }
    check(ptk.ptk_rmsnorm_rows(residual.x(), new IntPointer(a.meta).position(rowIdsAt), weights.finalNorm,
        (float) config.rmsNormEps(), a.hLogit, count, hidden, stream));
    matmul.run(matmuls.gemv(projections.lmHead(), count), a.hLogit, weights.lmHead, null, a.logits, false, count,
        config.vocabSize(), hidden);
  }

  /**
   * Layer l's qkv of the normed residual, then the thought embedding, RoPE and the KV append: q
   * into {@code a.q}, k and v into the layer's caches. ptk_gemv norms its input as it reads it and
   * appends as it writes (qkv never goes to memory); or the norm, ptk_gemm into {@code a.qkv} and
   * ptk_rope_append.
   */
  private void qkvAppend(int l, int n, boolean gemv) {
    DeviceWeights.Layer w = weights.layers.get(l);
    int hidden = config.hiddenSize();
    if (gemv) {
      check(ptk.ptk_gemv_rmsnorm_rope_append(rope, residual.x(), residual.parts(n), w.inputNorm(),
          (float) config.rmsNormEps(), w.qkv(), w.qkvBias(), w.thought(), a.q, kCache.get(l), vCache.get(l), n, hidden,
          a.gemvWork.at(), a.gemvWork.bytes(), stream));
    } else {
      residual.norm(w.inputNorm(), a.h, n);
      matmul.run(false, a.h, w.qkv(), w.qkvBias(), a.qkv, true, n, config.qkvWidth(), hidden);
      check(ptk.ptk_rope_append(rope, a.qkv, w.thought(), a.q, kCache.get(l), vCache.get(l), stream));
    }
  }

  /**
   * gate/up of the normed residual and the SiLU gate into {@code a.gated}: ptk_gemv norming its
   * input with the gate fused, or the norm, ptk_gemm and ptk_silu_mul.
   */
  private void gateUp(DeviceWeights.Layer w, int n, boolean gemv) {
    int hidden = config.hiddenSize(), inter = config.intermediateSize();
    if (gemv) {
      check(ptk.ptk_gemv_rmsnorm_silu_mul(residual.x(), residual.parts(n), w.postNorm(), (float) config.rmsNormEps(),
          w.gateUp(), a.gated, n, inter, hidden, a.gemvWork.at(), a.gemvWork.bytes(), stream));
    } else {
      residual.norm(w.postNorm(), a.h, n);
      matmul.run(false, a.h, w.gateUp(), null, a.wide, false, n, 2 * inter, hidden);
      check(ptk.ptk_silu_mul(new FloatPointer(a.wide), a.gated, n, inter, stream));
    }
  }

  /**
   * The model's projections as {@link #layers} and {@link #head} run them, for the tuner. qkv and
   * gate/up read the residual, filled at random and its parts taken once (as the layer before
   * leaves them); qkv appends the tokens of a RoPE plan of as many rows as the timing, at slot -1
   * (no cache writes); o and down add into it, a gemm's delta dropped after each call (the norm that would
   * add it is timed with the projection it feeds).
   */
  private List<MatmulTuner.Site> sites() {
    ModelConfig c = config;
    Projections p = projections;
    int hidden = c.hiddenSize(), qd = c.numHeads() * c.headDim(), inter = c.intermediateSize(), layers = c.numLayers();
    List<DeviceWeights.Layer> l = weights.layers;
    MatmulTuner.Input normed = rows -> {
      MatmulTuner.fillRandom(residual.x(), (long) rows * hidden, DType.F32, stream);
      residual.written();
      residual.parts(rows);
    };
    MatmulTuner.Input normedAndPlanned = rows -> {
      normed.fill(rows);
      try (IntPointer zeros = new IntPointer(rows); IntPointer noSlot = new IntPointer(rows)) {
        for (int t = 0; t < rows; t++) noSlot.put(t, -1);
        check(ptk.ptk_rope_plan_update(rope, rows, zeros.fill(0), zeros, noSlot, stream));
        check(ptk.ptk_stream_synchronize(stream));
      }
    };
    return List.of(
        new MatmulTuner.Site(p.qkv(), layers, normedAndPlanned, (i, m, gemv) -> qkvAppend(i, m, gemv)),
        new MatmulTuner.Site(p.o(), layers, bf16(a.attn, qd), (i, m, gemv) -> {
          residual.add(matmul, gemv, a.attn, l.get(i).o(), m, qd, true);
          residual.discardDelta();
        }),
        new MatmulTuner.Site(p.gateUp(), layers, normed, (i, m, gemv) -> gateUp(l.get(i), m, gemv)),
        new MatmulTuner.Site(p.down(), layers, bf16(a.gated, inter), (i, m, gemv) -> {
          residual.add(matmul, gemv, a.gated, l.get(i).down(), m, inter, true);
          residual.discardDelta();
        }),
        new MatmulTuner.Site(p.lmHead(), 1, bf16(a.hLogit, hidden),
            (i, m, gemv) -> matmul.run(gemv, a.hLogit, weights.lmHead, null, a.logits, false, m, c.vocabSize(), hidden)));
  }

  private MatmulTuner.Input bf16(Pointer buffer, int width) {
    return rows -> MatmulTuner.fillRandom(buffer, (long) rows * width, DType.BF16, stream);
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

  /** The nodes (kernel launches, copies, cuBLAS kernels) of the last decode step's graph: what one step launches. */
  public int lastGraphNodes() {
    return lastGraphNodes;
  }

  private static int nodes(Pointer graph) {
    int[] n = new int[1];
    check(ptk.ptk_graph_node_count(graph, n));
    return n[0];
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
    check(ptk.ptk_copy_to_device(a.meta, pinnedMeta, 4L * meta.deviceInts(), stream));
  }

  /** A host pointer to int {@code offset} of the pinned metadata. */
  private IntPointer at(int offset) {
    return new IntPointer(pinnedMeta).position(offset);
  }

  private void copyLogits(float[][] out, int first, int count) {
    int v = config.vocabSize();
    check(ptk.ptk_copy_to_host(pinnedLogits, a.logits, 4L * count * v, stream));
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

  /**
   * Uploads the rows' (path, step) keys, samples on the device (one launch per run of rows with the
   * same parameters: rows of one request are consecutive) and copies back the token ids alone.
   */
  private void drawTokens(SamplingRequest request, int[] out, int first, int count) {
    pinnedSample.position(count).put(request.steps(), first, count);
    pinnedSample.position(0).put(request.pathIds(), first, count);  // [path ids | steps], from position 0
    check(ptk.ptk_copy_to_device(a.sampleKeys, pinnedSample, 8L * count, stream));
    long vocab = config.vocabSize();
    for (int r = 0; r < count; ) {
      SamplingParams p = request.params()[first + r];
      int run = 1;
      while (r + run < count && request.params()[first + r + run].equals(p)) run++;
      try (ptk.ptk_sampling_params params = samplingParams(p)) {
        check(ptk.ptk_sample(new FloatPointer(a.logits).position(r * vocab), run, config.vocabSize(), params,
            new IntPointer(a.sampleKeys).position(r), new IntPointer(a.sampleKeys).position(count + r),
            new IntPointer(a.tokens).position(r), a.sampleWork, a.sampleWorkBytes, stream));
      }
      r += run;
    }
    check(ptk.ptk_copy_to_host(pinnedSample, a.tokens, 4L * count, stream));
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
