package dev.ptk.backend;

import dev.ptk.model.ModelConfig;

/**
 * What the engine needs from a device: run the model over a batch of tokens against the paged KV
 * cache it owns. The engine owns page allocation ({@link #numPages()} pages of
 * {@link #pageSize()} tokens); the backend owns the K/V storage and the weights.
 */
public interface Backend extends AutoCloseable {
  ModelConfig config();

  /** Tokens per KV page. */
  int pageSize();

  /** Pages in the KV pool (ids {@code 0 .. numPages-1}), the same in every layer. */
  int numPages();

  /** Runs the model; returns {@code logits[i]} (vocab floats) for {@code batch.logitRows()[i]}. */
  float[][] forward(ForwardBatch batch);

  /**
   * Runs the model and draws one token for each of {@code batch.logitRows()} by {@link Sampler}'s
   * rule, row r keyed by {@code request.pathIds()[r]} and {@code request.steps()[r]}: what decoding
   * uses, so that only token ids need leave the device.
   */
  int[] sample(ForwardBatch batch, SamplingRequest request);

  /** A short name for reports ("cpu", "cuda:0 NVIDIA H100"). */
  String describe();

  @Override
  void close();
}
