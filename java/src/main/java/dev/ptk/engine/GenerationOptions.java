package dev.ptk.engine;

import dev.ptk.backend.SamplingParams;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.RopeScaling;

/**
 * One request's settings. The released example runs 16384 tokens per path
 * ({@link #DEFAULT_MAX_TOKENS}), temperature 0.5, top-p 1, no top-k, first-finish, the summary at
 * {@code 2·Lp + n} and a summary cap of 128 counting {@code <summary>}.
 *
 * @param paths P, 1..8 as trained; up to {@code max_segments - 1} with a warning
 * @param maxTokens tokens per path, a multiple of the KV page size
 * @param summaryMaxTokens the summary's length cap, counting {@code <summary>}, at least 2
 */
public record GenerationOptions(
    int paths,
    int maxTokens,
    SamplingParams sampling,
    Termination termination,
    SummaryPosition summaryPosition,
    int summaryMaxTokens) {

  public static final int TRAINED_PATHS = 8;
  public static final int DEFAULT_MAX_TOKENS = 16384;
  public static final int DEFAULT_SUMMARY_MAX_TOKENS = 128;
  public static final double DEFAULT_TEMPERATURE = 0.5;
  /** YaRN's original context in the released example: the longest prompt + path + summary in training. */
  public static final int YARN_ORIGINAL_MAX_POSITIONS = 9280;
  private static final int YARN_BASE_TOKENS = 8192;

  public GenerationOptions {
    if (paths < 1) throw new IllegalArgumentException("paths must be at least 1, got " + paths);
    if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be positive, got " + maxTokens);
    if (summaryMaxTokens < 2) {
      throw new IllegalArgumentException("summaryMaxTokens must be at least 2 (it counts <summary>), got " + summaryMaxTokens);
    }
  }

  /**
   * The largest P for a model: one thought-embedding row per path besides row 0 (prompt and
   * summary); a checkpoint without thought embeddings (max_segments 0) allows the trained range.
   */
  public static int maxPaths(ModelConfig config) {
    return config.maxSegments() > 0 ? config.maxSegments() - 1 : TRAINED_PATHS;
  }

  /**
   * The released example's RoPE override for a path budget: YaRN with factor
   * {@code maxTokens / 8192} when that exceeds 1 (else plain RoPE), original length 9280.
   */
  public static RopeScaling releasedRopeScaling(int maxTokens) {
    double factor = maxTokens > YARN_BASE_TOKENS ? (double) maxTokens / YARN_BASE_TOKENS : 1.0;
    return factor > 1 ? RopeScaling.yarn(factor, YARN_ORIGINAL_MAX_POSITIONS) : RopeScaling.NONE;
  }
}
