package dev.ptk.backend.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which implementation runs each projection at decode shapes (m = 1..16 rows): ptk_gemv, which
 * reads each weight row once for all rows on CUDA cores, or ptk_gemm (cuBLAS on tensor cores on a
 * GPU). Decided by timing both on the device at start-up, per projection and row count; beyond 16
 * rows it is ptk_gemm. A fixed choice ({@link #gemvUpTo}) runs the same path on any device, for
 * tests that must cover a given path.
 */
public final class MatmulChoice {
  /** One projection of the model: y[m, n] = x[m, k] w[n, k]^T. */
  public record Projection(String name, int n, int k) {}

  /** Microseconds of one call of each implementation, and which one runs. */
  public record Timing(Projection projection, int rows, double gemvMicros, double gemmMicros) {
    public boolean gemv() {
      return gemvMicros <= gemmMicros;
    }
  }

  /** Times one call of an implementation (gemv or gemm) at {@code rows} rows. */
  public interface Timer {
    double micros(Projection p, int rows, boolean gemv);
  }

  private final List<Timing> timings;
  private final Map<Projection, boolean[]> gemvRows = new HashMap<>();
  /** Rows up to which an untimed projection runs ptk_gemv: 0 for a measured choice. */
  private final int untimedGemvRows;

  private MatmulChoice(List<Timing> timings, int maxRows, int untimedGemvRows) {
    this.timings = List.copyOf(timings);
    this.untimedGemvRows = untimedGemvRows;
    for (Timing t : timings) {
      gemvRows.computeIfAbsent(t.projection(), x -> new boolean[maxRows + 1])[t.rows()] = t.gemv();
    }
  }

  /** Every projection at 1..{@code maxRows} rows, timed both ways. */
  public static MatmulChoice measure(List<Projection> projections, int maxRows, Timer timer) {
    List<Timing> t = new ArrayList<>();
    for (Projection p : projections) {
      for (int m = 1; m <= maxRows; m++) t.add(new Timing(p, m, timer.micros(p, m, true), timer.micros(p, m, false)));
    }
    return new MatmulChoice(t, maxRows, 0);
  }

  /**
   * Untimed: every projection runs ptk_gemv at 1..{@code rows} rows and ptk_gemm beyond (0: always
   * ptk_gemm); no timings.
   */
  public static MatmulChoice gemvUpTo(int rows) {
    if (rows < 0 || rows > DeviceMatmul.MAX_GEMV_ROWS) {
      throw new IllegalArgumentException("ptk_gemv takes 0.." + DeviceMatmul.MAX_GEMV_ROWS + " rows, got " + rows);
    }
    return new MatmulChoice(List.of(), 0, rows);
  }

  /** Whether {@code m} rows of projection {@code p} run through ptk_gemv. */
  public boolean gemv(Projection p, int m) {
    boolean[] rows = gemvRows.get(p);
    if (rows == null) return m <= untimedGemvRows;
    return m < rows.length && rows[m];
  }

  public List<Timing> timings() {
    return timings;
  }
}
