package dev.ptk.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ptk.model.DType;
import dev.ptk.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The matmul against a float64 product, on shapes the model never has (row counts not a multiple
 * of 4, widths not a multiple of the vector length, several stacked matrices, slices that span two
 * matrices) and every weight dtype: the implementation {@link MatMul#of} picks (native for bf16 in
 * direct buffers when libptk loads) and the Java fallback, each on every case, with x as given and
 * rounded to bf16 ({@link ActivationPrecision}; the reference then rounds x itself).
 */
class MatMulTest {
  static final WorkerPool POOL = new WorkerPool(2);
  static final MatMulScratch SCRATCH = new MatMulScratch();

  @AfterAll
  static void closePool() {
    POOL.close();
    SCRATCH.close();
  }

  @Test
  void bf16PicksTheNativePathWhenLibptkLoads() {
    Tensor w = tensor("w", DType.BF16, new long[] {4, 8}, new double[32], new Random(1));
    MatMul m = MatMul.of(POOL, WeightRows.of(w), SCRATCH, ActivationPrecision.F32);
    assertEquals(NativeCpu.available() ? "native " + NativeCpu.isa() : "java vector", m.path(),
        "libptk: " + NativeCpu.reason());
  }

  @Test
  void bf16ModelShapesManyRows() {
    check(DType.BF16, new int[] {300, 37}, 1536, 8, true);
    check(DType.BF16, new int[] {70}, 1000, 20, false);
  }

  /** x, then y, large enough that the native path's copies are shared out among the workers. */
  @Test
  void bf16PrefillSizedCopies() {
    int tokens = 401, over = (int) (NativeMatMul.PARALLEL_COPY_FLOATS / tokens) / 2 * 2 + 50; // in: even
    check(DType.BF16, new int[] {90}, over, tokens, true);
    check(DType.BF16, new int[] {over - 201, 201}, 300, tokens, false);
  }

  @Test
  void bf16StackWithBiasOddShapes() {
    check(DType.BF16, new int[] {7, 2, 5}, 50, 3, true);
  }

  @Test
  void bf16SingleActivationRow() {
    check(DType.BF16, new int[] {5, 6}, 50, 1, true);
  }

  @Test
  void f32SingleActivationRow() {
    check(DType.F32, new int[] {6}, 36, 1, true);
  }

  @Test
  void f16Weights() {
    check(DType.F16, new int[] {9}, 34, 5, false);
  }

  @Test
  void f32WeightsManyRows() {
    check(DType.F32, new int[] {130}, 1040, 8, true);
  }

  private static void check(DType dtype, int[] rowCounts, int in, int tokens, boolean bias) {
    Random rnd = new Random(rowCounts.length * 31L + in);
    Tensor[] w = new Tensor[rowCounts.length];
    Tensor[] b = new Tensor[rowCounts.length];
    double[][] wd = new double[rowCounts.length][];
    double[][] bd = new double[rowCounts.length][];
    for (int m = 0; m < w.length; m++) {
      wd[m] = new double[rowCounts[m] * in];
      w[m] = tensor("w" + m, dtype, new long[] {rowCounts[m], in}, wd[m], rnd);
      bd[m] = new double[rowCounts[m]];
      b[m] = bias ? tensor("b" + m, dtype, new long[] {rowCounts[m]}, bd[m], rnd) : null;
    }
    WeightRows rows = new WeightRows(List.of(w), bias ? java.util.Arrays.asList(b) : null);
    int total = rows.rows();
    float[] x = new float[tokens * in];
    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
    for (ActivationPrecision p : ActivationPrecision.values()) {
      double[] xd = new double[x.length];
      for (int i = 0; i < x.length; i++) xd[i] = p == ActivationPrecision.BF16 ? nearestBf16(x[i]) : x[i];
      for (MatMul matMul : new MatMul[] {MatMul.of(POOL, rows, SCRATCH, p), new VectorMatMul(POOL, rows, SCRATCH, p)}) {
        for (int stride : new int[] {total, total + 3}) { // out packed, and rows of out wider than y's
          float[] out = new float[tokens * stride];
          matMul.apply(x, tokens, out, stride);
          compare(matMul.path(), dtype, rowCounts, wd, bd, xd, in, tokens, out, stride);
          for (int t = 0; t < tokens; t++) {
            for (int j = total; j < stride; j++) assertEquals(0f, out[t * stride + j], matMul.path() + ": past row " + t + "'s outputs");
          }
        }
      }
    }
  }

  /** Finite v to the nearest value with 8 significant bits (bf16's), ties to even: the grid's step times rint. */
  private static double nearestBf16(float v) {
    if (v == 0) return v;
    double step = Math.scalb(1.0, Math.getExponent(v) - 7);
    return Math.rint(v / step) * step;
  }

  private static void compare(String path, DType dtype, int[] rowCounts, double[][] wd, double[][] bd, double[] x,
      int in, int tokens, float[] out, int stride) {
    double maxErr = 0;
    for (int t = 0; t < tokens; t++) {
      int r = 0;
      for (int m = 0; m < rowCounts.length; m++) {
        for (int j = 0; j < rowCounts[m]; j++, r++) {
          double want = bd[m][j];
          for (int i = 0; i < in; i++) want += wd[m][j * in + i] * x[t * in + i];
          maxErr = Math.max(maxErr, Math.abs(out[t * stride + r] - want));
          assertEquals(want, out[t * stride + r], 1e-4 * Math.sqrt(in), path + " " + dtype + " t " + t + " row " + r);
        }
      }
    }
    System.out.printf("matmul %s %s %d rows x %d, T %d: max |err| %.3g%n", path, dtype, java.util.Arrays.stream(rowCounts).sum(), in,
        tokens, maxErr);
  }

  /** A tensor of random values exactly representable in {@code dtype}; their values go to {@code exact}. */
  private static Tensor tensor(String name, DType dtype, long[] shape, double[] exact, Random rnd) {
    // direct, as a checkpoint's mmapped tensors are (the native path reads only those)
    ByteBuffer buf = ByteBuffer.allocateDirect(exact.length * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < exact.length; i++) {
      float v = (float) rnd.nextGaussian();
      switch (dtype) {
        case BF16 -> {
          short bits = Tensor.floatToBf16(v);
          buf.putShort(2 * i, bits);
          exact[i] = Tensor.bf16ToFloat(bits);
        }
        case F16 -> {
          // a value on the f16 grid: a multiple of 2^-8 within +-4
          float q = Math.round(v * 256f) / 256f;
          short bits = f16Bits(q);
          buf.putShort(2 * i, bits);
          exact[i] = q;
        }
        default -> {
          buf.putFloat(4 * i, v);
          exact[i] = v;
        }
      }
    }
    return new Tensor(name, dtype, shape, buf.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }

  /** f16 bits of a normal value whose mantissa fits 10 bits (exact by construction). */
  private static short f16Bits(float v) {
    if (v == 0f) return 0;
    int b = Float.floatToIntBits(v);
    int sign = (b >>> 16) & 0x8000;
    int exp = ((b >>> 23) & 0xFF) - 127 + 15;
    return (short) (sign | (exp << 10) | ((b >>> 13) & 0x3FF));
  }
}
