package dev.ptk.backend.cuda;

import static dev.ptk.nativelib.Native.check;

import dev.ptk.model.DType;
import dev.ptk.model.Tensor;
import dev.ptk.nativelib.global.ptk;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * Times each decode-shape projection through ptk_gemv and ptk_gemm as a decode step runs it, with
 * the work it fuses (the gemv's input norm or output add; the gemm's separate norm launch): from
 * a captured graph, on weights that are not in L2. Calls rotate through every layer's copy of the
 * projection (28 layers of qkv are 176 MB on the 1.5B model, beyond a 50 MB L2), so no call finds
 * the previous one's weights cached; timing one layer's weights back to back would time them
 * L2-hot and favour whichever implementation benefits more from the cache.
 */
final class MatmulTuner {
  /** Device time a timing aims to fill, and the most calls it captures. */
  private static final double BUDGET_MS = 2.0;
  private static final int MAX_CALLS = 28;

  /** One call of a projection as the step makes it, on one layer's weights, at m rows, one way or the other. */
  interface Call {
    void run(int layer, int m, boolean gemv);
  }

  /**
   * Writes random inputs for the calls of a site at {@code rows} rows (timings on zeros flatter
   * tensor cores), with whatever else those calls read sized to them.
   */
  interface Input {
    void fill(int rows);
  }

  /** A projection, the layers it has weights in (calls rotate through them), its input, and how the step calls it. */
  record Site(MatmulChoice.Projection projection, int layers, Input input, Call call) {}

  private final Pointer stream;

  MatmulTuner(Pointer stream) {
    this.stream = stream;
  }

  /** Every site at 1..{@code maxRows} rows, both ways, on random inputs. */
  MatmulChoice tune(List<Site> sites, int maxRows) {
    Pointer start = new Pointer(), end = new Pointer();
    try {
      check(ptk.ptk_event_create(start));
      check(ptk.ptk_event_create(end));
      List<MatmulChoice.Projection> projections = sites.stream().map(Site::projection).toList();
      return MatmulChoice.measure(projections, maxRows,
          (p, m, gemv) -> micros(sites.get(projections.indexOf(p)), m, gemv, start, end));
    } finally {
      ptk.ptk_event_destroy(start);
      ptk.ptk_event_destroy(end);
    }
  }

  /**
   * One untimed eager call (first-launch costs: module loading, cuBLAS's heuristics), one timed
   * eager call that says how many fit in the budget, then that many calls captured in a graph,
   * replayed once untimed and once timed. A device a thousand times slower than a GPU (the sim)
   * stops after the probe, so that start-up stays short there too.
   */
  private double micros(Site s, int m, boolean gemv, Pointer start, Pointer end) {
    s.input().fill(m);
    s.call().run(0, m, gemv);
    check(ptk.ptk_event_record(start, stream));
    s.call().run(1 % s.layers(), m, gemv);
    check(ptk.ptk_event_record(end, stream));
    double probeMs = elapsedMs(start, end);
    int calls = (int) Math.min(MAX_CALLS, BUDGET_MS / probeMs);
    if (calls <= 1) return probeMs * 1000.0;
    Pointer graph = capture(s, m, gemv, calls);
    try {
      check(ptk.ptk_graph_launch(graph, stream));
      check(ptk.ptk_event_record(start, stream));
      check(ptk.ptk_graph_launch(graph, stream));
      check(ptk.ptk_event_record(end, stream));
      return elapsedMs(start, end) * 1000.0 / calls;
    } finally {
      ptk.ptk_graph_destroy(graph);
    }
  }

  private Pointer capture(Site s, int m, boolean gemv, int calls) {
    check(ptk.ptk_graph_begin_capture(stream));
    boolean captured = false;
    Pointer graph = new Pointer();
    try {
      for (int i = 0; i < calls; i++) s.call().run(i % s.layers(), m, gemv);
      captured = true;
    } finally {
      int status = ptk.ptk_graph_end_capture(stream, graph);  // ends the capture even when a call failed
      if (captured) {
        check(status);
      } else {
        ptk.ptk_graph_destroy(graph);
      }
    }
    return graph;
  }

  private double elapsedMs(Pointer start, Pointer end) {
    float[] ms = new float[1];
    check(ptk.ptk_event_elapsed_ms(start, end, ms));
    return ms[0];
  }

  /** Normal values, bf16 or f32, into the first {@code count} elements of a device buffer. */
  static void fillRandom(Pointer buffer, long count, DType type, Pointer stream) {
    if (type != DType.BF16 && type != DType.F32) throw new IllegalArgumentException("inputs are bf16 or f32, not " + type);
    SplittableRandom random = new SplittableRandom(count);
    float[] values = new float[Math.toIntExact(count)];
    short[] bf16 = new short[type == DType.BF16 ? values.length : 0];
    for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian();
    for (int i = 0; i < bf16.length; i++) bf16[i] = Tensor.floatToBf16(values[i]);
    try (Pointer host = type == DType.F32 ? new FloatPointer(values) : new ShortPointer(bf16)) {
      check(ptk.ptk_copy_to_device(buffer, host, (long) type.size() * count, stream));
      check(ptk.ptk_stream_synchronize(stream));
    }
  }
}
