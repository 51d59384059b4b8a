package dev.ptk.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
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
 * over this rate). Reads 2 GiB of off-heap memory, far beyond the caches, on all cores, the way the
 * CPU backend reads weights: consecutive pieces bulk-copied into a small reused array. (A scalar
 * sum over a long[] is limited by the adds, not by memory, and reads about half as fast here.)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:MaxDirectMemorySize=4g"})
public class MemoryBandwidthBenchmark {
  public static final long BYTES = 2L << 30;
  private static final int PIECE = 4096; // ints: 16 KiB, a few weight rows

  private ByteBuffer[] chunks;
  private int[][] scratch;

  @Setup
  public void setup() {
    int threads = Runtime.getRuntime().availableProcessors();
    int perThread = (int) (BYTES / threads / (4 * PIECE)) * 4 * PIECE;
    chunks = new ByteBuffer[threads];
    scratch = new int[threads][PIECE];
    for (int t = 0; t < threads; t++) {
      chunks[t] = ByteBuffer.allocateDirect(perThread).order(ByteOrder.LITTLE_ENDIAN);
      for (int at = 0; at < perThread; at += 8) chunks[t].putLong(at, at * 0x9E3779B97F4A7C15L);
    }
  }

  /** Time to read {@link #BYTES}; bandwidth = BYTES / time. */
  @Benchmark
  public long readAll() {
    return IntStream.range(0, chunks.length).parallel().mapToLong(t -> {
      IntBuffer in = chunks[t].duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
      int[] piece = scratch[t];
      long sum = 0;
      for (int at = 0; at < in.capacity(); at += PIECE) {
        in.get(at, piece, 0, PIECE);
        sum += piece[at & (PIECE - 1)];
      }
      return sum;
    }).sum();
  }
}
