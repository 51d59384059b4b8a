package dev.ptk.backend.cpu;

/** The MLP's gate: {@code out[t, i] = silu(gate[t, i]) · up[t, i]} from rows {@code [gate | up]}. */
final class SiluGate {
  private SiluGate() {}

  static void apply(float[] gateUp, int rows, int width, float[] out) {
    for (int t = 0; t < rows; t++) {
      int g = t * 2 * width;
      for (int i = 0; i < width; i++) {
        float x = gateUp[g + i];
        out[t * width + i] = x / (1f + (float) Math.exp(-x)) * gateUp[g + width + i];
      }
    }
  }
}
