package dev.ptk.backend.cuda;

import dev.ptk.model.LayerWeights;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.Tensor;
import dev.ptk.model.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.Pointer;

/**
 * The model's bf16 weights on the device, uploaded once in the layout the step reads: q, k and v
 * stacked into one projection (and their biases), gate and up stacked into one. A tied lm_head is
 * the embedding, uploaded once.
 */
final class DeviceWeights {
  /** One decoder layer's weights; {@code thought} is null for a checkpoint without thought embeddings. */
  record Layer(Pointer inputNorm, Pointer qkv, Pointer qkvBias, Pointer thought, Pointer o, Pointer postNorm,
      Pointer gateUp, Pointer down) {}

  final Pointer embedding;
  final Pointer finalNorm;
  final Pointer lmHead;
  final List<Layer> layers;

  private DeviceWeights(Pointer embedding, Pointer finalNorm, Pointer lmHead, List<Layer> layers) {
    this.embedding = embedding;
    this.finalNorm = finalNorm;
    this.lmHead = lmHead;
    this.layers = List.copyOf(layers);
  }

  /** The device bytes {@link #upload} takes for these weights. */
  static long bytes(Weights w) {
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

  /**
   * Checks every tensor's shape against the config and uploads it.
   *
   * @throws IllegalArgumentException naming the tensor that is missing or has the wrong shape
   */
  static DeviceWeights upload(ModelConfig config, Weights w, DeviceMemory memory, Pointer stream) {
    if (w.layers().size() != config.numLayers()) {
      throw new IllegalArgumentException("weights: " + w.layers().size() + " layers, config says " + config.numLayers());
    }
    int h = config.hiddenSize(), hd = config.headDim(), qd = config.numHeads() * hd, kd = config.numKvHeads() * hd;
    int inter = config.intermediateSize();
    Pointer embedding = memory.upload(stream, require(w.embedTokens(), config.vocabSize(), h));
    Pointer finalNorm = memory.upload(stream, require(w.norm(), h));
    Pointer lmHead = w.lmHead() == w.embedTokens() ? embedding
        : memory.upload(stream, require(w.lmHead(), config.vocabSize(), h));
    List<Layer> layers = new ArrayList<>();
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
          memory.upload(stream, require(l.downWeight(), h, inter))));
    }
    return new DeviceWeights(embedding, finalNorm, lmHead, layers);
  }

  private static Tensor require(Tensor t, long... shape) {
    if (t == null) throw new IllegalArgumentException("a tensor of shape " + Arrays.toString(shape) + " is missing");
    if (!Arrays.equals(t.shape(), shape)) throw new IllegalArgumentException(t + ": expected " + Arrays.toString(shape));
    return t;
  }
}
