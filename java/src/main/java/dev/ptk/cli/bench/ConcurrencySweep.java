package dev.ptk.cli.bench;

import dev.ptk.engine.GenerationOptions;
import dev.ptk.engine.GenerationResult;
import dev.ptk.engine.ParaThinkerEngine;
import dev.ptk.engine.ProgressListener;
import dev.ptk.engine.RequestHandle;
import dev.ptk.backend.SamplingParams;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Requests decoded together against one at a time: at each concurrency C, C requests (each with
 * its own prompt and seed, so nothing is shared) are submitted at once and stepped to the end in
 * one batch. Aggregate tokens/s is every generated token over the wall time; a request's latency
 * runs from submission to its result. A status line shows each request's tokens and the aggregate
 * rate as it goes.
 */
public final class ConcurrencySweep {
  /** One concurrency level's outcome. */
  public record Level(int concurrency, long wallNanos, long tokens, double[] latencyMs, int freePagesAfter) {
    public double tokensPerSecond() {
      return tokens * 1e9 / wallNanos;
    }

    public double meanLatencyMs() {
      return Arrays.stream(latencyMs).average().orElse(0);
    }
  }

  private ConcurrencySweep() {}

  /** @param prompt the engine prompt of request {@code i} */
  public static List<Level> run(ParaThinkerEngine engine, IntFunction<int[]> prompt, GenerationOptions options,
      int[] concurrencies, PrintStream err, boolean show) {
    List<Level> levels = new ArrayList<>();
    for (int c : concurrencies) {
      List<RequestHandle> handles = new ArrayList<>();
      int[][] tokens = new int[c][];
      double[] latency = new double[c];
      long start = System.nanoTime();
      for (int i = 0; i < c; i++) {
        int[] counts = tokens[i] = new int[1];
        SamplingParams s = options.sampling();
        GenerationOptions own = new GenerationOptions(options.paths(), options.maxTokens(),
            new SamplingParams(s.temperature(), s.topP(), s.topK(), s.seed() + i), options.termination(),
            options.summaryPosition(), options.summaryMaxTokens());
        handles.add(engine.submit(prompt.apply(i), own, new ProgressListener() {
          @Override
          public void onStep(Progress progress) {}

          @Override
          public void onToken(int path, int token) {
            counts[0]++;
          }
        }));
      }
      long lastShown = 0;
      while (handles.stream().anyMatch(h -> !h.isDone())) {
        engine.step();
        long now = System.nanoTime();
        for (int i = 0; i < c; i++) if (handles.get(i).isDone() && latency[i] == 0) latency[i] = (now - start) / 1e6;
        if (show && now - lastShown > 500_000_000L) {
          lastShown = now;
          long all = Arrays.stream(tokens).mapToLong(t -> t[0]).sum();
          StringBuilder each = new StringBuilder();
          for (int[] t : tokens) each.append(' ').append(t[0]);
          err.printf("\rconcurrency %d: tokens per request%s | %.1f tok/s aggregate ", c, each, all * 1e9 / (now - start));
          err.flush();
        }
      }
      long wall = System.nanoTime() - start;
      long generated = 0;
      for (RequestHandle h : handles) {
        GenerationResult r = h.join();
        generated += r.timings().pathTokens() + r.timings().summaryTokens();
      }
      if (show) err.println();
      Level level = new Level(c, wall, generated, latency, engine.freeKvPages());
      err.printf("concurrency %d: %d tokens in %.1f s, %.1f tok/s aggregate, mean latency %.1f s, KV pool %d pages free%n",
          c, generated, wall / 1e9, level.tokensPerSecond(), level.meanLatencyMs() / 1e3, level.freePagesAfter());
      levels.add(level);
    }
    return levels;
  }
}
