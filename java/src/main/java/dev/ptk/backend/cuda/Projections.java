package dev.ptk.backend.cuda;

import dev.ptk.model.ModelConfig;
import dev.ptk.backend.cuda.MatmulChoice.Projection;
import java.util.List;

/**
 * The model's matmuls as the decode step runs them, each named: two of them may share a shape (on
 * a model whose qkv width equals twice its intermediate size, qkv and gate_up do), and each
 * decides its implementation on its own, because each fuses different work around it.
 */
public record Projections(Projection qkv, Projection o, Projection gateUp, Projection down, Projection lmHead) {
  public static Projections of(ModelConfig c) {
    int hidden = c.hiddenSize(), inter = c.intermediateSize();
    return new Projections(
        new Projection("qkv", c.qkvWidth(), hidden),
        new Projection("o", hidden, c.numHeads() * c.headDim()),
        new Projection("gate_up", 2 * inter, hidden),
        new Projection("down", hidden, inter),
        new Projection("lm_head", c.vocabSize(), hidden));
  }

  /** The per-layer projections, in the order a layer runs them. */
  public List<Projection> layer() {
    return List.of(qkv, o, gateUp, down);
  }
}
