package dev.ptk.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.cuda.MatmulChoice.Projection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-shape choice between ptk_gemv and ptk_gemm follows the timings it was given, or the fixed rule. */
class MatmulChoiceTest {
  private static final Projection QKV = new Projection("qkv", 2048, 1536);
  private static final Projection LM_HEAD = new Projection("lm_head", 151936, 1536);

  /** gemv's time grows with the rows, the GEMM's does not: qkv crosses over after 6 rows, lm_head after 10. */
  private static double fake(Projection p, int rows, boolean gemv) {
    int crossover = p == QKV ? 6 : 10;
    return gemv ? 10.0 * rows : 10.0 * crossover + 5;
  }

  @Test
  void eachShapeRunsItsFasterImplementation() {
    List<String> asked = new ArrayList<>();
    MatmulChoice choice = MatmulChoice.measure(List.of(QKV, LM_HEAD), 16, (p, rows, gemv) -> {
      asked.add(p.name() + "/" + rows + "/" + gemv);
      return fake(p, rows, gemv);
    });
    assertEquals(2 * 16 * 2, asked.size());  // both implementations, every row count, every projection
    for (int m = 1; m <= 16; m++) {
      assertEquals(m <= 6, choice.gemv(QKV, m), "qkv at " + m + " rows");
      assertEquals(m <= 10, choice.gemv(LM_HEAD, m), "lm_head at " + m + " rows");
    }
    MatmulChoice.Timing t = choice.timings().get(0);
    assertEquals(QKV, t.projection());
    assertEquals(1, t.rows());
    assertEquals(10.0, t.gemvMicros());
    assertEquals(65.0, t.gemmMicros());
    assertTrue(t.gemv());
  }

  @Test
  void beyondTheMeasuredRowsAndForUntimedProjectionsItIsTheGemm() {
    MatmulChoice choice = MatmulChoice.measure(List.of(QKV), 16, (p, rows, gemv) -> gemv ? 1 : 2);
    assertTrue(choice.gemv(QKV, 16));
    assertFalse(choice.gemv(QKV, 17));
    assertFalse(choice.gemv(LM_HEAD, 1));
  }

  /** The tiny test model's qkv (1024 x 768) and gate_up (2 x 512 x 768) share a shape; each keeps its own timing. */
  @Test
  void projectionsOfTheSameShapeDecideApart() {
    Projection qkv = new Projection("qkv", 1024, 768), gateUp = new Projection("gate_up", 1024, 768);
    MatmulChoice choice = MatmulChoice.measure(List.of(qkv, gateUp), 16, (p, rows, gemv) -> gemv == (p == qkv) ? 1 : 2);
    assertTrue(choice.gemv(qkv, 1));
    assertFalse(choice.gemv(gateUp, 1));
  }

  @Test
  void aFixedChoiceRunsGemvUpToItsRowsForEveryShapeAndHasNoTimings() {
    MatmulChoice upTo4 = MatmulChoice.gemvUpTo(4);
    for (Projection p : List.of(QKV, LM_HEAD)) {
      assertTrue(upTo4.gemv(p, 1));
      assertTrue(upTo4.gemv(p, 4));
      assertFalse(upTo4.gemv(p, 5));
      assertFalse(MatmulChoice.gemvUpTo(0).gemv(p, 1));
      assertTrue(MatmulChoice.gemvUpTo(16).gemv(p, 16));
    }
    assertTrue(upTo4.timings().isEmpty());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MatmulChoice.gemvUpTo(17));
    assertTrue(e.getMessage().contains("0..16 rows, got 17"), e.getMessage());
  }
}
