package dev.ptk.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a checkpoint of any config with random BF16 weights, for benchmarks and tests where the
 * real weights are not available. Tensors are generated and written one chunk at a time, so the
 * 3.5 GB of the 1.5B shape never sit in memory. Scales keep activations near unit size: projections
 * N(0, 1/fan_in), the residual branches' output projections further divided by sqrt(2 layers),
 * norms 1 + N(0, 0.1²), biases N(0, 0.1²), thought embeddings N(0, 0.5²) (large enough to change
 * the output visibly). Each tensor's stream depends only on the seed and its name.
 */
public final class RandomCheckpoint {
  private static final int CHUNK = 1 << 20;

  private RandomCheckpoint() {}

  /**
   * Writes config.json (a copy of {@code configJson}) and model.safetensors into {@code outDir};
   * with {@code tokenizer} (a tokenizer.json or a directory holding one and perhaps
   * tokenizer_config.json) copies those too.
   */
  public static void write(Path configJson, Path outDir, long seed, Path tokenizer) throws IOException {
    ModelConfig config = ModelConfig.load(configJson);
    Files.createDirectories(outDir);
    Map<String, long[]> shapes = Checkpoint.tensorShapes(config, config.maxSegments() > 0);
    List<SafeTensorsWriter.Entry> entries = new ArrayList<>();
    shapes.forEach((name, shape) -> entries.add(new SafeTensorsWriter.Entry(name, DType.BF16, shape)));
    ByteBuffer chunk = ByteBuffer.allocate(2 * CHUNK).order(ByteOrder.LITTLE_ENDIAN);
    try (SafeTensorsWriter w = SafeTensorsWriter.create(outDir.resolve(Checkpoint.SINGLE_FILE), entries)) {
      for (SafeTensorsWriter.Entry e : entries) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + e.name().hashCode());
        double std = std(e.name(), e.shape(), config);
        double mean = e.name().endsWith("norm.weight") ? 1.0 : 0.0;
        long count = e.bytes() / 2;
        for (long done = 0; done < count; ) {
          int n = (int) Math.min(CHUNK, count - done);
          chunk.clear();
          for (int i = 0; i < n; i++) chunk.putShort(Tensor.floatToBf16((float) (mean + std * rng.nextGaussian())));
          w.write(chunk.flip());
          done += n;
        }
      }
    }
    Files.copy(configJson, outDir.resolve(Checkpoint.CONFIG), StandardCopyOption.REPLACE_EXISTING);
    if (tokenizer != null) copyTokenizer(tokenizer, outDir);
  }

  private static double std(String name, long[] shape, ModelConfig c) {
    if (name.endsWith("norm.weight") || name.endsWith(".bias")) return 0.1;
    if (name.endsWith("seg_embeddings.weight")) return 0.5;
    if (name.equals("model.embed_tokens.weight")) return 1.0;
    double s = 1.0 / Math.sqrt(shape[1]);
    boolean residualOut = name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight");
    return residualOut ? s / Math.sqrt(2.0 * c.numLayers()) : s;
  }

  private static void copyTokenizer(Path tokenizer, Path outDir) throws IOException {
    if (!Files.isDirectory(tokenizer)) {
      Files.copy(tokenizer, outDir.resolve(Checkpoint.TOKENIZER), StandardCopyOption.REPLACE_EXISTING);
      return;
    }
    Path json = tokenizer.resolve(Checkpoint.TOKENIZER);
    if (!Files.isRegularFile(json)) throw new ModelFormatException(json + ": missing");
    Files.copy(json, outDir.resolve(Checkpoint.TOKENIZER), StandardCopyOption.REPLACE_EXISTING);
    Path cfg = tokenizer.resolve("tokenizer_config.json");
    if (Files.isRegularFile(cfg)) Files.copy(cfg, outDir.resolve(cfg.getFileName()), StandardCopyOption.REPLACE_EXISTING);
  }
}
