package dev.ptk.backend.cpu;

import dev.ptk.model.LayerWeights;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.Tensor;
import java.util.Arrays;
import java.util.List;

/** One decoder layer's weights as the CPU ops use them: matrices in place, small vectors widened. */
record CpuLayer(float[] inputNorm, MatMul qkv, float[] thought, MatMul o, float[] postNorm, MatMul gateUp, MatMul down) {

  static CpuLayer of(int index, LayerWeights w, ModelConfig c, WorkerPool pool, MatMulScratch scratch,
      ActivationPrecision precision) {
    int h = c.hiddenSize();
    CpuLayer layer = new CpuLayer(
        vector(w.inputNorm(), h),
        MatMul.of(pool, new WeightRows(List.of(w.qWeight(), w.kWeight(), w.vWeight()),
            Arrays.asList(w.qBias(), w.kBias(), w.vBias())), scratch, precision),
        w.segEmbeddings() == null ? null : thoughtTable(w.segEmbeddings(), c),
        MatMul.of(pool, WeightRows.of(w.oWeight()), scratch, precision),
        vector(w.postNorm(), h),
        MatMul.of(pool, new WeightRows(List.of(w.gateWeight(), w.upWeight()), null), scratch, precision),
        MatMul.of(pool, WeightRows.of(w.downWeight()), scratch, precision));
    check(layer.qkv, c.qkvWidth(), h, index, "q/k/v_proj");
    check(layer.o, h, c.numHeads() * c.headDim(), index, "o_proj");
    check(layer.gateUp, 2 * c.intermediateSize(), h, index, "gate/up_proj");
    check(layer.down, h, c.intermediateSize(), index, "down_proj");
    return layer;
  }

  static float[] vector(Tensor t, int n) {
    if (t.elementCount() != n) throw new IllegalArgumentException(t + ": expected [" + n + "]");
    return t.toFloats();
  }

  private static float[] thoughtTable(Tensor t, ModelConfig c) {
    if (t.shape().length != 2 || t.dim(0) < c.maxSegments() || t.dim(1) != c.headDim()) {
      throw new IllegalArgumentException(t + ": expected [" + c.maxSegments() + ", " + c.headDim() + "]");
    }
    return t.toFloats();
  }

  private static void check(MatMul m, int rows, int in, int layer, String what) {
    if (m.weights().rows() != rows || m.weights().in() != in) {
      throw new IllegalArgumentException("layer " + layer + " " + what + ": expected [" + rows + ", " + in
          + "], got [" + m.weights().rows() + ", " + m.weights().in() + "]");
    }
  }
}
