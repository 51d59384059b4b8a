package dev.ptk.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How close a forward that rounds activations to bf16 comes to a float32 forward's logits (the
 * reference's, the CPU backend's by default): the CUDA backend's, and the CPU backend's with
 * {@code ActivationPrecision.BF16}. Rounding activations to bf16, which test-vectors/README.md says
 * the model-level tolerance (rtol 1e-3, atol 0.04, 4x what a float32 forward needs) is not meant
 * for: on the score vectors that rounding moves the logits by 0.022 on average and by at most
 * 0.15. The bound here keeps about twice that, and stays well below the errors the vectors are
 * there to catch: a wrong summary base moves logits by 7.8 or more, a wrong mask, segment id or
 * RoPE by 1 to 10.
 */
public final class Bf16Activations {
  public static final double RTOL = 0.02, ATOL = 0.25;
  /** The mean error over all logits: rounding noise averages out, a small systematic error does not. */
  public static final double MEAN_ERROR = 0.05;

  private Bf16Activations() {}

  public static void assertClose(String what, float[] want, float[] got) {
    Tolerance.assertClose(what, want, got, RTOL, ATOL);
    assertEquals(want.length, got.length);
    double sum = 0;
    for (int i = 0; i < want.length; i++) sum += Math.abs((double) got[i] - want[i]);
    double mean = sum / want.length;
    assertTrue(mean <= MEAN_ERROR, what + ": mean |err| " + mean + " over " + want.length + " logits, above " + MEAN_ERROR);
  }
}
