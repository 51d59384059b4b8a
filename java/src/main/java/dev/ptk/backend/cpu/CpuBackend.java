package dev.ptk.backend.cpu;

import dev.ptk.backend.Backend;
import dev.ptk.backend.BatchCheck;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.Sampler;
import dev.ptk.backend.SamplingRequest;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.Tensor;
import dev.ptk.model.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The model on the CPU, in float32 over weights read in place (bf16, f16 or f32; each matmul's
 * input as computed or rounded to bf16, {@link ActivationPrecision}) and a bf16 paged
 * KV cache with the same page ids as the GPU (the layout inside a page is {@link KvCache}'s). Every
 * layer appends the K/V of all batch tokens before its attention, so a batch may hold a whole
 * prompt, one token per path, or a summary.
 * Not thread-safe: one forward at a time.
 */
public final class CpuBackend implements Backend {
  public static final int DEFAULT_PAGE_SIZE = 16;

  private final ModelConfig config;
  private final ActivationPrecision precision;
  private final int pageSize;
  private final WorkerPool pool;
  private final MatMulScratch matMulScratch = new MatMulScratch();
  private final KvCache cache;
  private final Tensor embedding;
  private final List<CpuLayer> layers = new ArrayList<>();
  private final float[] finalNorm;
  private final MatMul lmHead;
  private final Rotary rotary;
  private final PagedAttention attention;
  private final RmsNorm norm;
  private final RopeAppend ropeAppend;
  private final SiluGate siluGate;
  private Scratch scratch;

  public CpuBackend(ModelConfig config, Weights weights, int pageSize, int numPages) {
    this(config, weights, pageSize, numPages, Runtime.getRuntime().availableProcessors());
  }

  public CpuBackend(ModelConfig config, Weights weights, int pageSize, int numPages, int threads) {
    this(config, weights, pageSize, numPages, threads, ActivationPrecision.F32);
  }

  public CpuBackend(ModelConfig config, Weights weights, int pageSize, int numPages, int threads,
      ActivationPrecision precision) {
    if (weights.layers().size() != config.numLayers()) {
      throw new IllegalArgumentException("weights: " + weights.layers().size() + " layers, config says " + config.numLayers());
    }
    if (config.numHeads() % config.numKvHeads() != 0) {
      throw new IllegalArgumentException("config: num_attention_heads " + config.numHeads()
          + " is not a multiple of num_key_value_heads " + config.numKvHeads());
    }
    Tensor e = weights.embedTokens();
    if (e.shape().length != 2 || e.dim(0) != config.vocabSize() || e.dim(1) != config.hiddenSize()) {
      throw new IllegalArgumentException(e + ": expected [" + config.vocabSize() + ", " + config.hiddenSize() + "]");
    }
    this.config = config;
    this.precision = precision;
    this.pageSize = pageSize;
    this.pool = new WorkerPool(threads);
    this.cache = new KvCache(config.numLayers(), numPages, pageSize, config.numKvHeads(), config.headDim());
    this.embedding = e;
    for (int l = 0; l < config.numLayers(); l++) layers.add(CpuLayer.of(l, weights.layers().get(l), config, pool, matMulScratch, precision));
    this.finalNorm = CpuLayer.vector(weights.norm(), config.hiddenSize());
    Tensor head = weights.lmHead();
    this.lmHead = MatMul.of(pool, WeightRows.of(head), matMulScratch, precision);
    if (lmHead.weights().rows() != config.vocabSize() || lmHead.weights().in() != config.hiddenSize()) {
      throw new IllegalArgumentException(head + ": expected [" + config.vocabSize() + ", " + config.hiddenSize() + "]");
    }
    this.rotary = new Rotary(config.headDim(), config.ropeTheta(), config.ropeScaling());
    this.attention = new PagedAttention(pool, config.numHeads(), config.numKvHeads(), config.headDim(), pageSize);
    this.norm = new RmsNorm(pool, config.rmsNormEps());
    this.ropeAppend = new RopeAppend(pool, config.numHeads(), config.numKvHeads(), config.headDim(), rotary);
    this.siluGate = new SiluGate(pool);
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
    return cache.numPages;
  }

  @Override
  public String describe() {
    return "cpu (" + pool.size() + " threads, matmul " + lmHead.path() + ")";
  }

  @Override
  public float[][] forward(ForwardBatch batch) {
    float[] flat = run(batch);
    int v = config.vocabSize();
    float[][] logits = new float[batch.logitRows().length][];
    for (int r = 0; r < logits.length; r++) logits[r] = Arrays.copyOfRange(flat, r * v, (r + 1) * v);
    return logits;
  }

  @Override
  public int[] sample(ForwardBatch batch, SamplingRequest request) {
    request.requireRowsOf(batch);
    float[] logits = run(batch);
    int v = config.vocabSize();
    int rows = request.rows();
    // Every row in one slice per worker, so that one row (a summary) or a few use every core; the
    // tokens are those of one pass over each row (Sampler.Draw).
    int slices = pool.size();
    Sampler.Draw[] draws = new Sampler.Draw[rows];
    pool.run(rows, (worker, from, to) -> {
      for (int r = from; r < to; r++) {
        draws[r] = new Sampler.Draw(logits, r * v, v, request.params()[r], request.pathIds()[r], request.steps()[r], slices);
      }
    });
    pool.run(rows * slices, (worker, from, to) -> {
      for (int t = from; t < to; t++) draws[t / slices].slice(t % slices);
    });
    int[] tokens = new int[rows];
    for (int r = 0; r < rows; r++) tokens[r] = draws[r].token();
    return tokens;
  }

  /** The batch through the model: its logit rows' logits, flat ({@code [rows, vocab]}, in scratch). */
  private float[] run(ForwardBatch batch) {
    BatchCheck.check(batch, config, cache.numPages, pageSize);
    int n = batch.size();
    int rows = batch.logitRows().length;
    if (scratch == null || scratch.tokens < n || scratch.logitRows < rows) {
      scratch = scratch == null ? new Scratch(config, n, rows)
          : new Scratch(config, Math.max(n, scratch.tokens), Math.max(rows, scratch.logitRows));
    }
    Scratch s = scratch;
    int hidden = config.hiddenSize();
    int inter = config.intermediateSize();
    int qkvWidth = config.qkvWidth();
    List<PagedAttention.Pass> passes = PagedAttention.plan(batch.groups());

    Embedding.gather(embedding, batch.tokens(), n, s.x);
    for (int t = 0; t < n; t++) rotary.angles(batch.positions()[t], s.cos, s.sin, t * rotary.half());
    for (int l = 0; l < layers.size(); l++) {
      CpuLayer layer = layers.get(l);
      // The residual add of the previous layer's MLP is fused into this layer's first norm.
      norm.addAndApply(s.x, l == 0 ? null : s.proj, n, layer.inputNorm(), s.h);
      layer.qkv().apply(s.h, n, s.qkv, qkvWidth);
      ropeAppend.apply(s.qkv, n, batch.segmentIds(), layer.thought(), s.cos, s.sin, batch.slots(), cache, l);
      AttentionStates att = attention.run(passes, n, s.qkv, qkvWidth, cache, l);
      layer.o().apply(att.o, n, s.proj, hidden);
      norm.addAndApply(s.x, s.proj, n, layer.postNorm(), s.h);
      layer.gateUp().apply(s.h, n, s.gateUp, 2 * inter);
      siluGate.apply(s.gateUp, n, inter, s.act);
      layer.down().apply(s.act, n, s.proj, hidden);
    }
    // The last MLP's residual add, for the rows whose logits are asked for only.
    for (int r = 0; r < rows; r++) {
      int from = batch.logitRows()[r] * hidden;
      for (int i = 0; i < hidden; i++) s.h[r * hidden + i] = s.x[from + i] + s.proj[from + i];
    }
    norm.apply(s.h, rows, finalNorm, s.h);
    lmHead.apply(s.h, rows, s.logits, config.vocabSize());
    return s.logits;
  }

  @Override
  public void close() {
    pool.close();
    matMulScratch.close();
  }

  /** Activation buffers for up to {@code tokens} batch tokens and {@code logitRows} logit rows. */
  private static final class Scratch {
    final int tokens;
    final int logitRows;
    final float[] x, h, qkv, proj, gateUp, act, cos, sin, logits;

    Scratch(ModelConfig config, int tokens, int logitRows) {
      this.tokens = tokens;
      this.logitRows = logitRows;
      int hidden = config.hiddenSize();
      int inter = config.intermediateSize();
      x = new float[tokens * hidden];
      h = new float[tokens * hidden];
      qkv = new float[tokens * config.qkvWidth()];
      proj = new float[tokens * hidden];
      gateUp = new float[tokens * 2 * inter];
      act = new float[tokens * inter];
      cos = new float[tokens * config.headDim() / 2];
      sin = new float[tokens * config.headDim() / 2];
      logits = new float[logitRows * config.vocabSize()];
    }
  }
}
