package dev.ptk.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SummaryTest {
  private static RunResult run(Mode mode, int p, String id, boolean correct, int tokens, double latencyMs) {
    return new RunResult(id, mode, p, 0, "1", "1", correct, List.of(tokens), tokens, latencyMs, List.of());
  }

  @Test
  void rowsPerModeAndPathCount() {
    List<RunResult> runs = new ArrayList<>();
    // parathinker P=2: 20 runs, latencies 100..2000 ms, 15 correct, 50..240 tokens
    for (int i = 1; i <= 20; i++) runs.add(run(Mode.PARATHINKER, 2, "q" + i, i <= 15, 40 + 10 * i, 100.0 * i));
    // sequential P=2 listed before parathinker P=1 on purpose: rows come out sorted
    runs.add(run(Mode.SEQUENTIAL, 2, "q1", false, 300, 900));
    runs.add(run(Mode.SEQUENTIAL, 2, "q2", true, 100, 300));
    runs.add(run(Mode.PARATHINKER, 1, "q1", true, 64, 250.5));

    List<Summary.Row> rows = Summary.of(runs);
    assertEquals(List.of(
        new Summary.Row(Mode.PARATHINKER, 1, 1, 1.0, 250.5, 250.5, 64),
        new Summary.Row(Mode.PARATHINKER, 2, 20, 0.75, 1050, 1900, 145),
        new Summary.Row(Mode.SEQUENTIAL, 2, 2, 0.5, 600, 900, 200)), rows);
  }
}
