package dev.ptk.bench;

import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's read bandwidth: the denominator of every CPU floor (bytes a decode step must read
 * over this rate). Reads 1 GiB, far beyond the caches, on all cores, summing so nothing is elided.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MemoryBandwidthBenchmark {
  public static final long BYTES = 1L << 30;
  private long[][] chunks;

  @Setup
  public void setup() {
    int threads = Runtime.getRuntime().availableProcessors();
    int perThread = (int) (BYTES / 8 / threads);
    chunks = new long[threads][perThread];
    for (long[] c : chunks) {
      for (int i = 0; i < c.length; i++) c[i] = i;
    }
  }

  /** Time to read {@link #BYTES}; bandwidth = BYTES / time. */
  @Benchmark
  public long readAll() {
    return IntStream.range(0, chunks.length).parallel().mapToLong(t -> {
      long[] c = chunks[t];
      long s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int i = 0; i + 3 < c.length; i += 4) {
        s0 += c[i];
        s1 += c[i + 1];
        s2 += c[i + 2];
        s3 += c[i + 3];
      }
      return s0 + s1 + s2 + s3;
    }).sum();
  }
}
