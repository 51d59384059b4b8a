package dev.ptk.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonObject;

/** The element-wise closeness check every comparison against the reference vectors uses. */
public final class Tolerance {
  private Tolerance() {}

  public static double rtol(JsonObject manifestCase) {
    return manifestCase.getAsJsonObject("tolerance").get("rtol").getAsDouble();
  }

  public static double atol(JsonObject manifestCase) {
    return manifestCase.getAsJsonObject("tolerance").get("atol").getAsDouble();
  }

  /** {@link #assertClose(String, float[], float[], double, double)} with a manifest case's tolerance. */
  public static void assertClose(String what, float[] want, float[] got, JsonObject manifestCase) {
    assertClose(what, want, got, rtol(manifestCase), atol(manifestCase));
  }

  /** {@code |got - want| <= atol + rtol |want|} per element (NaN fails, equal infinities pass); prints the max error. */
  public static void assertClose(String what, float[] want, float[] got, double rtol, double atol) {
    assertEquals(want.length, got.length, what + ": length");
    double maxErr = 0;
    int worst = -1;
    for (int i = 0; i < want.length; i++) {
      if (Float.isInfinite(want[i]) && want[i] == got[i]) continue;
      double err = Math.abs((double) got[i] - want[i]);
      // An infinite want passes only when equal (above): its bound would be infinite too.
      boolean ok = !Float.isInfinite(want[i]) && err <= atol + rtol * Math.abs(want[i]);
      if (!ok || Double.isNaN(err)) {
        fail(what + ": element " + i + " got " + got[i] + ", want " + want[i] + " (rtol " + rtol + ", atol " + atol + ")");
      }
      if (err > maxErr) {
        maxErr = err;
        worst = i;
      }
    }
    System.out.printf("%-40s max |err| %.3g%s over %d values%n", what, maxErr,
        worst < 0 ? "" : " (want " + want[worst] + ")", want.length);
  }
}
