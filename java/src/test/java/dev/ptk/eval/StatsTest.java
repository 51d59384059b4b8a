package dev.ptk.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class StatsTest {
  @Test
  void meanOfLatencies() {
    assertEquals(250.0, Stats.mean(new double[] {100, 200, 300, 400}), 1e-12);
    assertEquals(1234.5, Stats.mean(new double[] {1234.5}), 1e-12);
  }

  @Test
  void p95IsTheNearestRank() {
    double[] twenty = new double[20];
    for (int i = 0; i < 20; i++) twenty[i] = (20 - i) * 10; // 200, 190, ..., 10, unsorted on purpose
    assertEquals(190, Stats.percentile(twenty, 95), 0); // rank ceil(0.95 * 20) = 19
    double[] ten = {5, 1, 9, 3, 7, 2, 8, 4, 6, 10};
    assertEquals(10, Stats.percentile(ten, 95), 0); // rank ceil(9.5) = 10
    assertEquals(5, Stats.percentile(ten, 50), 0); // the median by nearest rank
    assertEquals(42, Stats.percentile(new double[] {42}, 95), 0);
  }

  @Test
  void percentileDoesNotReorderItsInput() {
    double[] xs = {3, 1, 2};
    Stats.percentile(xs, 95);
    assertEquals(3, xs[0], 0);
  }

  @Test
  void emptyInputIsAnError() {
    assertThrows(IllegalArgumentException.class, () -> Stats.mean(new double[0]));
    assertThrows(IllegalArgumentException.class, () -> Stats.percentile(new double[0], 95));
    assertThrows(IllegalArgumentException.class, () -> Stats.percentile(new double[] {1}, 0));
  }
}
