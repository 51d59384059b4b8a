package dev.ptk.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint directory in the Hugging Face layout: config.json and either model.safetensors or
 * model.safetensors.index.json with its shards (generation_config.json is not read: the engine
 * takes its sampling from the request). Opening it checks that every tensor the model needs is
 * there with the shape its config implies and a float dtype (BF16, F16, F32), and that nothing unexpected is there (a tensor of a layer the config does not
 * have means the config and the weights do not belong together).
 *
 * <p>The weights stay memory-mapped; Java 17 cannot unmap eagerly, so the mappings go away when no
 * {@link Tensor} of this checkpoint is reachable. {@link #close()} ends the checkpoint's use: later
 * calls to {@link #weights()} fail.
 */
public final class Checkpoint implements AutoCloseable {
  public static final String CONFIG = "config.json";
  public static final String SINGLE_FILE = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";
  public static final String TOKENIZER = "tokenizer.json";

  private static final Set<DType> FLOAT_TYPES = Set.of(DType.BF16, DType.F16, DType.F32);

  private final Path dir;
  private final ModelConfig config;
  private Weights weights;

  private Checkpoint(Path dir, ModelConfig config, Weights weights) {
    this.dir = dir;
    this.config = config;
    this.weights = weights;
  }

  public static Checkpoint open(Path dir) {
    if (!Files.isDirectory(dir)) throw new ModelFormatException(dir + ": not a checkpoint directory");
    Path configFile = dir.resolve(CONFIG);
    if (!Files.isRegularFile(configFile)) throw new ModelFormatException(configFile + ": missing");
    ModelConfig config = ModelConfig.load(configFile);
    Map<String, Tensor> tensors = readTensors(dir);
    return new Checkpoint(dir, config, buildWeights(config, tensors, dir.toString()));
  }

  public Path dir() {
    return dir;
  }

  public ModelConfig config() {
    return config;
  }

  public Weights weights() {
    if (weights == null) throw new IllegalStateException(dir + ": checkpoint is closed");
    return weights;
  }

  /** The tokenizer.json next to the weights. */
  public Path tokenizerFile() {
    return dir.resolve(TOKENIZER);
  }

  @Override
  public void close() {
    weights = null;
  }

  /** name -> tensor over the single file or over every shard of the index. */
  static Map<String, Tensor> readTensors(Path dir) {
    Path single = dir.resolve(SINGLE_FILE);
    if (Files.isRegularFile(single)) {
      SafeTensors st = SafeTensors.open(single);
      Map<String, Tensor> m = new LinkedHashMap<>();
      for (String n : st.names()) m.put(n, st.tensor(n));
      return m;
    }
    Path index = dir.resolve(INDEX);
    if (!Files.isRegularFile(index)) {
      throw new ModelFormatException(dir + ": neither " + SINGLE_FILE + " nor " + INDEX + " is present");
    }
    JsonObject map = Json.object(Json.readObject(index), "weight_map", index.toString());
    Map<String, SafeTensors> shards = new HashMap<>();
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : map.entrySet()) {
      String name = e.getKey();
      JsonElement v = e.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw new ModelFormatException(index + ": weight_map entry " + name + " is not a file name");
      }
      String shardName = v.getAsString();
      Path shardPath = dir.resolve(shardName).normalize();
      if (!shardPath.getParent().equals(dir.normalize())) {
        throw new ModelFormatException(index + ": shard \"" + shardName + "\" of tensor " + name + " is outside the checkpoint directory");
      }
      SafeTensors shard = shards.computeIfAbsent(shardName, s -> {
        if (!Files.isRegularFile(shardPath)) {
          throw new ModelFormatException(index + ": shard " + shardName + " (listed for tensor " + name + ") is missing");
        }
        return SafeTensors.open(shardPath);
      });
      if (!shard.contains(name)) {
        throw new ModelFormatException(index + ": tensor " + name + " is listed in shard " + shardName + " but " + shardPath + " does not hold it");
      }
      m.put(name, shard.tensor(name));
    }
    return m;
  }

  /**
   * Name and shape of every tensor a checkpoint of this config holds, in checkpoint order; the
   * thought-embedding tables only with {@code thoughtEmbeddings}, lm_head only when untied.
   */
  public static Map<String, long[]> tensorShapes(ModelConfig c, boolean thoughtEmbeddings) {
    long h = c.hiddenSize(), kv = (long) c.numKvHeads() * c.headDim(), inter = c.intermediateSize();
    Map<String, long[]> m = new LinkedHashMap<>();
    m.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
    for (int l = 0; l < c.numLayers(); l++) {
      String p = "model.layers." + l + ".";
      m.put(p + "input_layernorm.weight", new long[] {h});
      m.put(p + "self_attn.q_proj.weight", new long[] {h, h});
      m.put(p + "self_attn.q_proj.bias", new long[] {h});
      m.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
      m.put(p + "self_attn.k_proj.bias", new long[] {kv});
      m.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
      m.put(p + "self_attn.v_proj.bias", new long[] {kv});
      m.put(p + "self_attn.o_proj.weight", new long[] {h, h});
      if (thoughtEmbeddings) m.put(p + "self_attn.seg_embeddings.weight", new long[] {c.maxSegments(), c.headDim()});
      m.put(p + "post_attention_layernorm.weight", new long[] {h});
      m.put(p + "mlp.gate_proj.weight", new long[] {inter, h});
      m.put(p + "mlp.up_proj.weight", new long[] {inter, h});
      m.put(p + "mlp.down_proj.weight", new long[] {h, inter});
    }
    m.put("model.norm.weight", new long[] {h});
    if (!c.tieWordEmbeddings()) m.put("lm_head.weight", new long[] {c.vocabSize(), h});
    return m;
  }

  static Weights buildWeights(ModelConfig c, Map<String, Tensor> tensors, String where) {
    for (String leftover : List.of("seg_embeddings.weight", "model.seg_embeddings.weight")) {
      if (tensors.containsKey(leftover)) {
        throw new ModelFormatException(where + ": tensor " + leftover
            + " is a leftover of an older training version (thought embeddings belong to each layer's self_attn)");
      }
    }
    int withSeg = 0;
    for (int l = 0; l < c.numLayers(); l++) {
      String seg = "model.layers." + l + ".self_attn.seg_embeddings.weight";
      if (tensors.containsKey(seg)) {
        if (c.maxSegments() == 0) {
          throw new ModelFormatException(where + ": tensor " + seg + " is present but config.json has no max_segments");
        }
        withSeg++;
      }
    }
    if (withSeg != 0 && withSeg != c.numLayers()) {
      throw new ModelFormatException(where + ": self_attn.seg_embeddings.weight is present in " + withSeg + " of "
          + c.numLayers() + " layers (all or none)");
    }
    boolean thought = withSeg > 0;
    Map<String, long[]> shapes = tensorShapes(c, thought);
    for (String name : tensors.keySet()) {
      boolean tiedCopy = c.tieWordEmbeddings() && name.equals("lm_head.weight"); // present but not read
      if (!shapes.containsKey(name) && !tiedCopy && !name.endsWith("rotary_emb.inv_freq")) {
        throw new ModelFormatException(where + ": unexpected tensor " + name + " (config.json describes "
            + c.numLayers() + " layers; does the config belong to these weights?)");
      }
    }
    Lookup look = new Lookup(tensors, shapes, where);
    List<LayerWeights> layers = new ArrayList<>();
    for (int l = 0; l < c.numLayers(); l++) {
      String p = "model.layers." + l + ".";
      layers.add(new LayerWeights(
          look.get(p + "input_layernorm.weight"),
          look.get(p + "self_attn.q_proj.weight"), look.get(p + "self_attn.q_proj.bias"),
          look.get(p + "self_attn.k_proj.weight"), look.get(p + "self_attn.k_proj.bias"),
          look.get(p + "self_attn.v_proj.weight"), look.get(p + "self_attn.v_proj.bias"),
          look.get(p + "self_attn.o_proj.weight"),
          look.get(p + "post_attention_layernorm.weight"),
          look.get(p + "mlp.gate_proj.weight"), look.get(p + "mlp.up_proj.weight"),
          look.get(p + "mlp.down_proj.weight"),
          thought ? look.get(p + "self_attn.seg_embeddings.weight") : null));
    }
    Tensor embed = look.get("model.embed_tokens.weight");
    Tensor lmHead = c.tieWordEmbeddings() ? embed : look.get("lm_head.weight");
    return new Weights(embed, List.copyOf(layers), look.get("model.norm.weight"), lmHead);
  }

  /** Fetches tensors by name, checking shape and dtype. */
  private record Lookup(Map<String, Tensor> tensors, Map<String, long[]> shapes, String where) {
    Tensor get(String name) {
      long[] shape = shapes.get(name);
      Tensor t = tensors.get(name);
      if (t == null) throw new ModelFormatException(where + ": missing tensor " + name);
      if (!Arrays.equals(t.shape(), shape)) {
        throw new ModelFormatException(where + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
            + ", config.json implies " + Arrays.toString(shape));
      }
      if (!FLOAT_TYPES.contains(t.dtype())) {
        throw new ModelFormatException(where + ": tensor " + name + " has dtype " + t.dtype() + " (supported: BF16, F16, F32)");
      }
      return t;
    }
  }
}
