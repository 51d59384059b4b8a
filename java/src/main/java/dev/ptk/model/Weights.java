package dev.ptk.model;

import java.util.List;

/** Every tensor of the model, validated against its {@link ModelConfig}. */
public record Weights(Tensor embedTokens, List<LayerWeights> layers, Tensor norm, Tensor lmHead) {}
