package dev.ptk.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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
 * over this rate). Reads 2 GiB of off-heap memory, far beyond the caches, on all cores: each core
 * sums its share with 256-bit loads as {@link #STREAMS} streams read in turn (the share's quarters).
 * One sequential stream per core (or bulk copies of consecutive pieces) keeps too few cache misses
 * in flight and reads only about 60% of what several streams do, and the native matmul reads many
 * weight rows at once: a floor over a one-stream rate would be too easy to meet.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:MaxDirectMemorySize=4g"})
public class MemoryBandwidthBenchmark {
  public static final long BYTES = 2L << 30;
  private static final int STREAMS = 4; // readAll reads 4 (a, b, c, d)
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;

  private ByteBuffer[] chunks;

  @Setup
  public void setup() {
    int threads = Runtime.getRuntime().availableProcessors();
    int perThread = (int) (BYTES / threads / (STREAMS << 12)) * (STREAMS << 12); // whole pages per stream
    chunks = new ByteBuffer[threads];
    for (int t = 0; t < threads; t++) {
      chunks[t] = ByteBuffer.allocateDirect(perThread).order(ByteOrder.LITTLE_ENDIAN);
      for (int at = 0; at < perThread; at += 8) chunks[t].putLong(at, at * 0x9E3779B97F4A7C15L);
    }
  }

  /** Time to read {@link #BYTES}; bandwidth = BYTES / time. */
  @Benchmark
  public long readAll() {
    return IntStream.range(0, chunks.length).parallel().mapToLong(t -> {
      ByteBuffer in = chunks[t];
      int quarter = in.capacity() / STREAMS;
      IntVector a = IntVector.zero(I), b = a, c = a, d = a;
      for (int at = 0; at < quarter; at += I.vectorByteSize()) {
        a = a.add(IntVector.fromByteBuffer(I, in, at, ByteOrder.LITTLE_ENDIAN));
        b = b.add(IntVector.fromByteBuffer(I, in, quarter + at, ByteOrder.LITTLE_ENDIAN));
        c = c.add(IntVector.fromByteBuffer(I, in, 2 * quarter + at, ByteOrder.LITTLE_ENDIAN));
        d = d.add(IntVector.fromByteBuffer(I, in, 3 * quarter + at, ByteOrder.LITTLE_ENDIAN));
      }
      return a.add(b).add(c).add(d).reduceLanes(VectorOperators.ADD);
    }).sum();
  }
}
