package dev.ptk.backend.cpu;

import dev.ptk.model.DType;
import dev.ptk.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code [out, in]} weight matrices stacked by rows (q | k | v, or gate | up), read in place from
 * their buffers (BF16, F16 or F32; never copied whole), with an optional bias per row.
 *
 * <p>Rows are delivered piece by piece in "split" order {@code [x0 x2 x4 … | x1 x3 x5 …]}: one
 * little-endian int holds two bf16 values, and shifting or masking it gives the even and the odd
 * element as a float with no lane shuffle. Activations are put in the same order once per matmul.
 */
final class WeightRows {
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  private final int in;
  private final int rows;
  private final Tensor[] tensors;
  private final int[] firstRow;
  private final float[] bias;

  /** {@code biases} is null or holds one tensor (or null) per weight. */
  WeightRows(List<Tensor> weights, List<Tensor> biases) {
    tensors = weights.toArray(new Tensor[0]);
    firstRow = new int[tensors.length + 1];
    in = tensors[0].dim(1);
    for (int i = 0; i < tensors.length; i++) {
      Tensor t = tensors[i];
      if (t.shape().length != 2 || t.dim(1) != in) {
        throw new IllegalArgumentException(t + ": expected [out, " + in + "]");
      }
      if (in % 2 != 0) throw new IllegalArgumentException(t + ": odd input width");
      if (t.dtype() != DType.BF16 && t.dtype() != DType.F16 && t.dtype() != DType.F32) {
        throw new IllegalArgumentException(t + ": unsupported dtype " + t.dtype());
      }
      firstRow[i + 1] = firstRow[i] + t.dim(0);
    }
    rows = firstRow[tensors.length];
    bias = biases == null ? null : readBias(biases);
  }

  static WeightRows of(Tensor weight) {
    return new WeightRows(List.of(weight), null);
  }

  int in() {
    return in;
  }

  int rows() {
    return rows;
  }

  float bias(int row) {
    return bias == null ? 0f : bias[row];
  }

  /** The bias of every row (not to be modified), or null when there is none. */
  float[] biasValues() {
    return bias;
  }

  /** The stacked matrices (not to be modified). */
  Tensor[] tensors() {
    return tensors;
  }

  /** The stack's first row of matrix {@code t}. */
  int firstRow(int t) {
    return firstRow[t];
  }

  /** The matrix that holds row {@code row} of the stack. */
  int tensorOf(int row) {
    int t = 0;
    while (row >= firstRow[t + 1]) t++;
    return t;
  }

  /** A reader of up to {@code maxRows} consecutive rows at a time: one per worker (buffers are not thread-safe). */
  Reader reader(int maxRows) {
    return new Reader(maxRows);
  }

  private float[] readBias(List<Tensor> biases) {
    float[] b = new float[rows];
    for (int i = 0; i < tensors.length; i++) {
      Tensor t = biases.get(i);
      if (t == null) continue;
      int n = firstRow[i + 1] - firstRow[i];
      if (t.elementCount() != n) throw new IllegalArgumentException(t + ": expected [" + n + "]");
      System.arraycopy(t.toFloats(), 0, b, firstRow[i], n);
    }
    return b;
  }

  /**
   * Per-thread reader: {@link #load} bulk-copies a few consecutive rows (long copies keep the
   * memory streaming), {@link #piece} widens a piece of one of them.
   */
  final class Reader {
    private final IntBuffer[] bf16 = new IntBuffer[tensors.length];
    private final ShortBuffer[] f16 = new ShortBuffer[tensors.length];
    private final FloatBuffer[] f32 = new FloatBuffer[tensors.length];
    private final int[] packed;
    private final short[] halves;
    private final float[] floats;
    private final int[] rowTensor;

    private Reader(int maxRows) {
      packed = new int[maxRows * in / 2];
      halves = new short[maxRows * in];
      floats = new float[maxRows * in];
      rowTensor = new int[maxRows];
      for (int i = 0; i < tensors.length; i++) {
        ByteBuffer b = tensors[i].data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.clear();
        switch (tensors[i].dtype()) {
          case BF16 -> bf16[i] = b.asIntBuffer();
          case F16 -> f16[i] = b.asShortBuffer();
          default -> f32[i] = b.asFloatBuffer();
        }
      }
    }

    /** Rows {@code [row, row + count)} of the stack become the loaded rows {@code 0 .. count-1}. */
    void load(int row, int count) {
      int j = 0;
      while (j < count) {
        int t = tensorOf(row + j);
        int n = Math.min(count - j, firstRow[t + 1] - (row + j)); // rows left in this tensor
        int r = row + j - firstRow[t];
        if (bf16[t] != null) bf16[t].get(r * (in / 2), packed, j * (in / 2), n * (in / 2));
        else if (f16[t] != null) f16[t].get(r * in, halves, j * in, n * in);
        else f32[t].get(r * in, floats, j * in, n * in);
        for (int k = j; k < j + n; k++) rowTensor[k] = t;
        j += n;
      }
    }

    boolean isBf16(int j) {
      return bf16[rowTensor[j]] != null;
    }

    /**
     * One activation row {@code x} (split order) times loaded bf16 row {@code j}, read from the
     * packed pairs directly (widened in registers, never stored).
     */
    float dotPacked(int j, float[] x, int xOff) {
      int half = in / 2;
      int at = j * half;
      FloatVector even = FloatVector.zero(F), odd = even;
      int i = 0;
      for (int bound = I.loopBound(half); i < bound; i += I.length()) {
        IntVector w = IntVector.fromArray(I, packed, at + i);
        even = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xOff + i), even);
        odd = w.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xOff + half + i), odd);
      }
      float sum = even.add(odd).reduceLanes(VectorOperators.ADD);
      for (; i < half; i++) {
        sum += Float.intBitsToFloat(packed[at + i] << 16) * x[xOff + i]
            + Float.intBitsToFloat(packed[at + i] & 0xFFFF0000) * x[xOff + half + i];
      }
      return sum;
    }

    /**
     * Elements {@code [2·from, 2·(from + pairs))} of loaded row {@code j}, split: the even ones
     * into {@code dst[0, pairs)}, the odd ones into {@code dst[pairs, 2·pairs)}.
     */
    void piece(int j, int from, int pairs, float[] dst) {
      int t = rowTensor[j];
      if (bf16[t] != null) {
        int at = j * (in / 2) + from;
        int i = 0;
        for (int bound = I.loopBound(pairs); i < bound; i += I.length()) {
          IntVector w = IntVector.fromArray(I, packed, at + i);
          w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, i);
          w.and(0xFFFF0000).reinterpretAsFloats().intoArray(dst, pairs + i);
        }
        for (; i < pairs; i++) {
          dst[i] = Float.intBitsToFloat(packed[at + i] << 16);
          dst[pairs + i] = Float.intBitsToFloat(packed[at + i] & 0xFFFF0000);
        }
      } else {
        int at = j * in + 2 * from;
        for (int i = 0; i < pairs; i++) {
          dst[i] = f16[t] != null ? Tensor.f16ToFloat(halves[at + 2 * i]) : floats[at + 2 * i];
          dst[pairs + i] = f16[t] != null ? Tensor.f16ToFloat(halves[at + 2 * i + 1]) : floats[at + 2 * i + 1];
        }
      }
    }
  }

  /** Puts {@code rows} rows of width {@code in} of {@code x} into split order in {@code dst}. */
  static void split(float[] x, int rows, int in, float[] dst) {
    int half = in / 2;
    for (int t = 0; t < rows; t++) {
      int o = t * in;
      for (int i = 0; i < half; i++) {
        dst[o + i] = x[o + 2 * i];
        dst[o + half + i] = x[o + 2 * i + 1];
      }
    }
  }
}
