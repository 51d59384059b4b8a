package dev.ptk.backend.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which implementation runs each projection at decode shapes (m = 1..16 rows): ptk_gemv, which
 * reads each weight row once for all rows on CUDA cores, or cuBLAS on tensor cores. Decided by
 * timing both on the card at start-up, per projection and row count; beyond 16 rows it is cuBLAS.
 */
public final class MatmulChoice {
  /** One projection of the model: y[m, n] = x[m, k] w[n, k]^T. */
  public record Projection(String name, int n, int k) {}

  /** Microseconds of one call of each implementation, and which one runs. */
  public record Timing(Projection projection, int rows, double gemvMicros, double cublasMicros) {
    public boolean gemv() {
      return gemvMicros <= cublasMicros;
    }
  }

  /** Times one call of an implementation (gemv or cuBLAS) at {@code rows} rows. */
  public interface Timer {
    double micros(Projection p, int rows, boolean gemv);
  }

  private final List<Timing> timings;
  private final Map<Long, boolean[]> gemvRows = new HashMap<>();

  private MatmulChoice(List<Timing> timings, int maxRows) {
    this.timings = List.copyOf(timings);
    for (Timing t : timings) {
      gemvRows.computeIfAbsent(key(t.projection().n(), t.projection().k()), x -> new boolean[maxRows + 1])[t.rows()] = t.gemv();
    }
  }

  /** Every projection at 1..{@code maxRows} rows, timed both ways. */
  public static MatmulChoice measure(List<Projection> projections, int maxRows, Timer timer) {
    List<Timing> t = new ArrayList<>();
    for (Projection p : projections) {
      for (int m = 1; m <= maxRows; m++) t.add(new Timing(p, m, timer.micros(p, m, true), timer.micros(p, m, false)));
    }
    return new MatmulChoice(t, maxRows);
  }

  /** Whether {@code m} rows of an {@code n x k} projection run through ptk_gemv. */
  public boolean gemv(int m, int n, int k) {
    boolean[] rows = gemvRows.get(key(n, k));
    return rows != null && m < rows.length && rows[m];
  }

  public List<Timing> timings() {
    return timings;
  }

  private static long key(int n, int k) {
    return (long) n << 32 | k;
  }
}
