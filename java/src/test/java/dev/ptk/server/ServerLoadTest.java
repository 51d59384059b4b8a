package dev.ptk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.engine.EngineLoop;
import dev.ptk.engine.ParaThinkerEngine;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 32 streaming clients at once for 60 seconds on 127.0.0.1 (the tiny checkpoint, CPU backend):
 * no request is lost or fails, memory stays flat after warm-up, and every KV page is free at the
 * end. Bounded by time (no request starts after 60 s) and by count (each client at most 10,000).
 * Tagged "load": Maven runs it alone in a JVM with a fixed, pre-touched heap (see java/pom.xml).
 */
@Tag("load")
class ServerLoadTest {
  static final int CLIENTS = 32;
  static final long RUN_NANOS = 60_000_000_000L;
  static final long WARM_UP_NANOS = 15_000_000_000L;
  static final int MAX_REQUESTS_PER_CLIENT = 10_000;

  @Test
  void thirtyTwoStreamingClientsForAMinuteLoseNothing() throws Exception {
    try (Tokenizer tokenizer = Tokenizer.load(ServerTest.TINY);
        Checkpoint checkpoint = Checkpoint.open(ServerTest.TINY);
        CpuBackend backend = new CpuBackend(checkpoint.config().withRopeScaling(RopeScaling.NONE), checkpoint.weights(),
            CpuBackend.DEFAULT_PAGE_SIZE, 2048);
        EngineLoop loop = new EngineLoop(ParaThinkerEngine.of(backend, tokenizer, 8));
        OpenAiServer server = new OpenAiServer(loop, tokenizer, new OpenAiServer.Config("127.0.0.1", 0, "tiny", 8, 64, 256))) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions");
      long start = System.nanoTime();
      AtomicInteger issued = new AtomicInteger();
      AtomicInteger completed = new AtomicInteger();
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      List<Future<?>> running = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        running.add(clients.submit(() -> {
          for (int i = 0; i < MAX_REQUESTS_PER_CLIENT && System.nanoTime() - start < RUN_NANOS; i++) {
            issued.incrementAndGet();
            JsonObject body = ServerTest.chat("Question " + client + "." + i + ": what is " + i + " + " + client + "?",
                1 + (client + i) % 4, 16 * (1 + i % 3), true);
            body.addProperty("temperature", 0.7);
            body.addProperty("seed", client * 100_000L + i);
            try {
              HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(uri)
                  .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofInputStream());
              if (r.statusCode() != 200) {
                failures.add("client " + client + " request " + i + ": status " + r.statusCode());
                r.body().close();
                continue;
              }
              String finish = null;
              for (JsonObject e : ServerTest.events(r.body())) {
                if (e.has("error")) failures.add("client " + client + " request " + i + ": " + e);
                for (JsonElement ch : e.getAsJsonArray("choices")) {
                  JsonElement f = ch.getAsJsonObject().get("finish_reason");
                  if (!f.isJsonNull()) finish = f.getAsString();
                }
              }
              if (finish == null) failures.add("client " + client + " request " + i + ": no finish_reason");
              else completed.incrementAndGet();
            } catch (Exception | AssertionError e) {
              failures.add("client " + client + " request " + i + ": " + e);
            }
          }
          return null;
        }));
      }
      // Memory every 5 s once warm: the JVM grows its heap and thread arenas while the load builds
      // up, so the check is on the second half, against the sample at mid-run.
      List<long[]> samples = new ArrayList<>();
      for (long at = WARM_UP_NANOS; at <= RUN_NANOS; at += 5_000_000_000L) {
        while (System.nanoTime() - start < at) Thread.sleep(50);
        samples.add(memory());
      }
      for (Future<?> f : running) f.get(120, TimeUnit.SECONDS);
      clients.shutdown();
      long[] warm = samples.get(samples.size() / 2);
      long[] end = memory();

      assertTrue(failures.isEmpty(), failures.size() + " failures, first: " + failures.peek());
      assertEquals(issued.get(), completed.get(), "every request completed");
      assertTrue(completed.get() >= CLIENTS, "each client finished at least one request: " + completed.get());
      Map<String, Double> m = Prometheus.parse(http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body());
      assertEquals((double) completed.get(), m.get("ptk_requests_total{outcome=\"completed\"}"));
      assertEquals(0.0, m.get("ptk_requests_total{outcome=\"failed\"}"));
      assertEquals(0, loop.snapshot().kvPagesInUse(), "every KV page free at the end");
      long heapGrowth = end[0] - warm[0];
      long rssGrowth = end[1] - warm[1];
      StringBuilder trend = new StringBuilder();
      for (long[] s : samples) trend.append(' ').append(s[0] >> 20).append('/').append(s[1] >> 20);
      System.out.printf("load: %d requests in %.1f s by %d clients; live heap/RSS MiB every 5 s from 15 s:%s; end %d/%d%n",
          completed.get(), (System.nanoTime() - start) / 1e9, CLIENTS, trend, end[0] >> 20, end[1] >> 20);
      assertTrue(heapGrowth < 32L << 20, "live heap flat after warm-up: grew " + (heapGrowth >> 20) + " MiB");
      assertTrue(rssGrowth < Math.max(64L << 20, warm[1] / 10), "resident memory flat in the second half: grew "
          + (rssGrowth >> 20) + " MiB from " + (warm[1] >> 20) + " MiB");
    }
  }

  /** {live heap after a full GC, resident set} in bytes. */
  private static long[] memory() throws Exception {
    System.gc();
    Thread.sleep(200);
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    long rss = 0;
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) rss = Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
    }
    return new long[] {heap, rss};
  }
}
