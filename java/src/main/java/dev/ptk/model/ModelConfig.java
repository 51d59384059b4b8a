package dev.ptk.model;

import com.google.gson.JsonObject;
import java.nio.file.Path;

/**
 * The fields of a Qwen2 / ParaThinker {@code config.json} that the forward pass needs.
 *
 * @param maxSegments rows of each layer's thought-embedding table ({@code max_segments}, 32 in the
 *     released checkpoint); 0 when config.json has no {@code max_segments} (a plain Qwen2 checkpoint,
 *     whose thought embedding is zero)
 */
public record ModelConfig(
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int intermediateSize,
    int vocabSize,
    int maxPositionEmbeddings,
    double ropeTheta,
    RopeScaling ropeScaling,
    double rmsNormEps,
    boolean tieWordEmbeddings,
    int maxSegments,
    int bosTokenId,
    int eosTokenId) {

  /**
   * Reads config.json. Required: hidden_size, num_hidden_layers, num_attention_heads,
   * num_key_value_heads, intermediate_size, vocab_size, max_position_embeddings, rms_norm_eps,
   * bos_token_id, eos_token_id. Defaults as Qwen2Config: rope_theta 10000, tie_word_embeddings
   * false; max_segments 0 when absent. See {@link RopeScaling#fromConfig} for rope_scaling.
   */
  public static ModelConfig load(Path configJson) {
    String f = configJson.toString();
    JsonObject o = Json.readObject(configJson);
    if (Json.has(o, "hidden_act") && !Json.string(o, "hidden_act", f).equals("silu")) {
      throw new ModelFormatException(f + ": field \"hidden_act\" must be \"silu\", got " + o.get("hidden_act"));
    }
    if (Json.bool(o, "use_sliding_window", false, f)) {
      throw new ModelFormatException(f + ": field \"use_sliding_window\" is true; sliding-window attention is not supported");
    }
    ModelConfig c = new ModelConfig(
        positive(o, "hidden_size", f),
        positive(o, "num_hidden_layers", f),
        positive(o, "num_attention_heads", f),
        positive(o, "num_key_value_heads", f),
        positive(o, "intermediate_size", f),
        positive(o, "vocab_size", f),
        positive(o, "max_position_embeddings", f),
        Json.real(o, "rope_theta", 10000.0, f),
        RopeScaling.fromConfig(o, f),
        Json.real(o, "rms_norm_eps", f),
        Json.bool(o, "tie_word_embeddings", false, f),
        Json.integer(o, "max_segments", 0, f),
        Json.integer(o, "bos_token_id", f),
        Json.integer(o, "eos_token_id", f));
    if (c.hiddenSize % c.numHeads != 0) {
      throw new ModelFormatException(f + ": hidden_size " + c.hiddenSize + " is not a multiple of num_attention_heads " + c.numHeads);
    }
    if (c.numHeads % c.numKvHeads != 0) {
      throw new ModelFormatException(f + ": num_attention_heads " + c.numHeads + " is not a multiple of num_key_value_heads " + c.numKvHeads);
    }
    if (c.headDim() % 2 != 0) throw new ModelFormatException(f + ": head dimension " + c.headDim() + " is odd (RoPE needs pairs)");
    if (c.maxSegments < 0) throw new ModelFormatException(f + ": field \"max_segments\" is negative");
    if (!(c.ropeTheta > 0) || !(c.rmsNormEps > 0)) {
      throw new ModelFormatException(f + ": fields \"rope_theta\" and \"rms_norm_eps\" must be positive");
    }
    return c;
  }

  private static int positive(JsonObject o, String field, String file) {
    int v = Json.integer(o, field, file);
    if (v <= 0) throw new ModelFormatException(file + ": field \"" + field + "\" must be positive, got " + v);
    return v;
  }

  public int headDim() {
    return hiddenSize / numHeads;
  }

  /** Query heads per kv head. */
  public int groupSize() {
    return numHeads / numKvHeads;
  }

  /** Width of one row of the fused QKV projection output: q heads, then k heads, then v heads. */
  public int qkvWidth() {
    return (numHeads + 2 * numKvHeads) * headDim();
  }

  public ModelConfig withRopeScaling(RopeScaling scaling) {
    return new ModelConfig(hiddenSize, numLayers, numHeads, numKvHeads, intermediateSize, vocabSize,
        maxPositionEmbeddings, ropeTheta, scaling, rmsNormEps, tieWordEmbeddings, maxSegments,
        bosTokenId, eosTokenId);
  }
}
