package dev.ptk.model;

/**
 * One decoder layer's tensors, named as in the checkpoint ({@code model.layers.{l}.…}).
 * {@code segEmbeddings} ({@code self_attn.seg_embeddings.weight}, [max_segments, head_dim]) is null
 * for a plain Qwen2 checkpoint: the thought embedding is then zero.
 */
public record LayerWeights(
    Tensor inputNorm,
    Tensor qWeight, Tensor qBias,
    Tensor kWeight, Tensor kBias,
    Tensor vWeight, Tensor vBias,
    Tensor oWeight,
    Tensor postNorm,
    Tensor gateWeight, Tensor upWeight, Tensor downWeight,
    Tensor segEmbeddings) {}
