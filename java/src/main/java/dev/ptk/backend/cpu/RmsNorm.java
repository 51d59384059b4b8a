package dev.ptk.backend.cpu;

/** Qwen2 RMSNorm in float32: {@code y = x / sqrt(mean(x²) + eps) * w}, row by row. */
final class RmsNorm {
  private RmsNorm() {}

  static void apply(float[] x, int rows, float[] weight, double eps, float[] out) {
    int n = weight.length;
    for (int t = 0; t < rows; t++) {
      int o = t * n;
      double ss = 0;
      for (int i = 0; i < n; i++) ss += (double) x[o + i] * x[o + i];
      float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
      for (int i = 0; i < n; i++) out[o + i] = x[o + i] * inv * weight[i];
    }
  }
}
