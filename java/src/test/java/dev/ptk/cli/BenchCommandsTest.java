package dev.ptk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.testing.Cli;
import dev.ptk.testing.Cli.Run;
import dev.ptk.testing.TestVectors;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ptk bench-decode} and {@code ptk bench-request} on the tiny checkpoint, CPU backend. */
class BenchCommandsTest {
  private static final String TINY = TestVectors.tinyModel().toString();

  @Test
  void benchDecodeTimesEachShape() {
    Run r = Cli.ptk("bench-decode", "--model", TINY, "--backend", "cpu", "--paths", "1,3", "--contexts", "32",
        "--steps", "2");
    assertEquals(0, r.code(), r.err());
    JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
    assertTrue(o.get("backend").getAsString().startsWith("cpu"), o.toString());
    assertEquals(2, o.getAsJsonArray("results").size());
    for (JsonElement e : o.getAsJsonArray("results")) {
      JsonObject x = e.getAsJsonObject();
      assertEquals(32, x.get("context").getAsInt());
      assertTrue(x.get("min_ms").getAsDouble() > 0 && x.get("min_ms").getAsDouble() <= x.get("median_ms").getAsDouble(), x.toString());
    }
    assertFalse(o.has("matmul"), "gemv/cuBLAS timings are the CUDA backend's");
  }

  @Test
  void benchRequestComparesWithIndependentSequencesAndFreesEveryPage() {
    Run r = Cli.ptk("bench-request", "--model", TINY, "--backend", "cpu", "--paths", "3", "--prompt-tokens", "64",
        "--max-tokens", "32", "--requests", "3", "--quiet");
    assertEquals(0, r.code(), r.err());
    JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
    assertEquals(3, o.get("paths").getAsInt());
    int pages = o.get("kv_pages").getAsInt();
    assertEquals(3, o.getAsJsonArray("requests").size());
    for (JsonElement e : o.getAsJsonArray("requests")) {
      JsonObject x = e.getAsJsonObject();
      int tokens = x.get("path_tokens").getAsInt() + x.get("summary_tokens").getAsInt();
      assertTrue(x.get("path_tokens").getAsInt() >= 3 && x.get("path_tokens").getAsInt() <= 3 * 32, x.toString());
      int baseline = x.get("independent_tokens").getAsInt();
      assertTrue(baseline >= tokens && baseline < tokens + 3, "ceil(N / P) tokens per sequence: " + x);
      assertEquals(pages, x.get("pool_free_pages").getAsInt(), "every page is free after request " + x.get("request"));
      double speedup = x.get("speedup").getAsDouble();
      double expected = (tokens / x.get("parathinker_ms").getAsDouble()) / (baseline / x.get("independent_ms").getAsDouble());
      assertEquals(expected, speedup, 0.01 * expected + 1e-3);
    }
    assertEquals(3, r.err().lines().filter(l -> l.startsWith("bench-request ")).count(), r.err());
  }

  @Test
  void benchRequestAtSeveralConcurrenciesReportsEachLevelAndDrawsThePicture(@TempDir Path dir) throws Exception {
    Path png = dir.resolve("concurrency.png");
    Run r = Cli.ptk("bench-request", "--model", TINY, "--backend", "cpu", "--paths", "2", "--prompt-tokens", "32",
        "--max-tokens", "16", "--concurrency", "1,3", "--chart", png.toString(), "--quiet");
    assertEquals(0, r.code(), r.err());
    JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
    int pages = o.get("kv_pages").getAsInt();
    assertEquals(2, o.getAsJsonArray("levels").size());
    for (int i = 0; i < 2; i++) {
      JsonObject level = o.getAsJsonArray("levels").get(i).getAsJsonObject();
      int c = level.get("concurrency").getAsInt();
      assertEquals(i == 0 ? 1 : 3, c);
      assertEquals(c, level.getAsJsonArray("latency_ms").size(), "one latency per request");
      for (JsonElement ms : level.getAsJsonArray("latency_ms")) {
        assertTrue(ms.getAsDouble() > 0 && ms.getAsDouble() <= level.get("wall_ms").getAsDouble() + 1, level.toString());
      }
      double rate = level.get("tokens").getAsLong() / (level.get("wall_ms").getAsDouble() / 1000);
      assertEquals(rate, level.get("tokens_per_s").getAsDouble(), 0.01 * rate);
      assertEquals(pages, level.get("pool_free_pages").getAsInt(), "every page free after level " + c);
    }
    assertTrue(Files.size(png) > 1000, "the picture");
    Cli.assertUsage(Cli.ptk("bench-request", "--model", TINY, "--backend", "cpu", "--concurrency", "0,2"),
        "--concurrency must be a comma list of integers in [1, 256], got '0,2'");
  }

  @Test
  void benchRequestRejectsBadFlagsWithOneLine() {
    Run r = Cli.ptk("bench-request", "--model", TINY, "--backend", "cpu", "--prompt-tokens", "30");
    Cli.assertUsage(r, "--prompt-tokens must be a multiple of 16, got 30");
    assertEquals("ptk bench-request: --prompt-tokens must be a multiple of 16, got 30", r.err().strip());
  }
}
