package dev.ptk.bench;

import dev.ptk.model.DType;
import dev.ptk.model.LayerWeights;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.Tensor;
import dev.ptk.model.Weights;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * BF16 weights of a model's exact shapes, off-heap in direct buffers (as a mapped checkpoint would
 * be), filled with small random values so that timing never runs on zeros.
 */
final class RandomWeights {
  private long state;

  private RandomWeights(long seed) {
    state = seed | 1;
  }

  static Weights of(ModelConfig c, long seed) {
    RandomWeights r = new RandomWeights(seed);
    int h = c.hiddenSize(), d = c.headDim(), q = c.numHeads() * d, kv = c.numKvHeads() * d, i = c.intermediateSize();
    List<LayerWeights> layers = new ArrayList<>();
    for (int l = 0; l < c.numLayers(); l++) {
      String p = "model.layers." + l + ".";
      layers.add(new LayerWeights(
          r.ones(p + "input_layernorm.weight", h),
          r.random(p + "self_attn.q_proj.weight", q, h), r.random(p + "self_attn.q_proj.bias", q),
          r.random(p + "self_attn.k_proj.weight", kv, h), r.random(p + "self_attn.k_proj.bias", kv),
          r.random(p + "self_attn.v_proj.weight", kv, h), r.random(p + "self_attn.v_proj.bias", kv),
          r.random(p + "self_attn.o_proj.weight", h, q),
          r.ones(p + "post_attention_layernorm.weight", h),
          r.random(p + "mlp.gate_proj.weight", i, h), r.random(p + "mlp.up_proj.weight", i, h),
          r.random(p + "mlp.down_proj.weight", h, i),
          r.random(p + "self_attn.seg_embeddings.weight", c.maxSegments(), d)));
    }
    return new Weights(r.random("model.embed_tokens.weight", c.vocabSize(), h), layers,
        r.ones("model.norm.weight", h), r.random("lm_head.weight", c.vocabSize(), h));
  }

  /** Values of magnitude in [2^-7, 2^-5) with random sign and mantissa: no zero, no overflow. */
  private Tensor random(String name, long... shape) {
    ByteBuffer b = allocate(shape);
    for (int at = 0; at < b.capacity(); at += 8) {
      long x = next() & 0x80FF_80FF_80FF_80FFL; // sign and 8 low bits of each bf16
      b.putLong(at, x | 0x3C00_3C00_3C00_3C00L);
    }
    return new Tensor(name, DType.BF16, shape, b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }

  private Tensor ones(String name, long... shape) {
    ByteBuffer b = allocate(shape);
    for (int at = 0; at < b.capacity(); at += 2) b.putShort(at, (short) 0x3F80);
    return new Tensor(name, DType.BF16, shape, b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }

  private static ByteBuffer allocate(long[] shape) {
    long n = 1;
    for (long s : shape) n *= s;
    // rounded up to whole longs for the fill; the tensor's shape says how much is used
    return ByteBuffer.allocateDirect(Math.toIntExact((n * 2 + 7) / 8 * 8)).order(ByteOrder.LITTLE_ENDIAN);
  }

  private long next() {
    state ^= state << 13;
    state ^= state >>> 7;
    state ^= state << 17;
    return state;
  }
}
