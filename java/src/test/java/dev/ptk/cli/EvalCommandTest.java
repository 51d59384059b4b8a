package dev.ptk.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.answer.Grader;
import dev.ptk.testing.Cli;
import dev.ptk.testing.Cli.Run;
import dev.ptk.testing.TestVectors;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ptk eval} end to end on the tiny reference checkpoint with tiny budgets: the pipeline,
 * resume and report files (the tiny model's accuracy means nothing).
 */
class EvalCommandTest {
  private static final Path TINY = TestVectors.tinyModel();
  @TempDir Path dir;
  private Path data;

  @BeforeEach
  void problems() throws Exception {
    data = dir.resolve("three.jsonl");
    Files.writeString(data, String.join("\n",
        "{\"id\": \"add\", \"problem\": \"What is 2 + 3?\", \"answer\": \"5\"}",
        "{\"id\": \"half\", \"problem\": \"Write one half as a decimal.\", \"answer\": \"\\\\frac{1}{2}\"}",
        "{\"problem\": \"How many sides does a hexagon have?\", \"answer\": 6}",
        "{\"problem\": \"a line cut short\", \"answer\": ") + "\n", StandardCharsets.UTF_8);
  }

  private String[] evalArgs(Path out, String... extra) {
    List<String> args = new ArrayList<>(List.of("eval", "--model", TINY.toString(), "--data", data.toString(),
        "--backend", "cpu", "--seed", "7", "--out", out.toString()));
    args.addAll(Arrays.asList(extra));
    return args.toArray(String[]::new);
  }

  @Test
  void everyModeEndToEndThenAResumeThatDoesNothing() throws Exception {
    Path out = dir.resolve("out");
    String[] args = evalArgs(out, "--paths", "1,2", "--mode", "parathinker,sequential,majority", "--max-tokens", "16");
    Run first = Cli.ptk(args);
    assertEquals(0, first.code(), first.err());
    assertTrue(first.err().contains(data + ":4: skipped: not valid JSON"), first.err());
    assertTrue(first.err().contains("eval 18/18 runs"), first.err());

    List<JsonObject> lines = new ArrayList<>();
    for (String l : Files.readAllLines(out.resolve("results.jsonl"))) lines.add(JsonParser.parseString(l).getAsJsonObject());
    assertEquals(3 * 3 * 2, lines.size()); // 3 good problems x 3 modes x P in {1, 2}
    Map<String, JsonObject> byKey = new HashMap<>();
    for (JsonObject r : lines) {
      String mode = r.get("mode").getAsString();
      int p = r.get("paths").getAsInt();
      byKey.put(r.get("id").getAsString() + "/" + mode + "/" + p, r);
      int[] tokens = TestVectors.ints(r.getAsJsonArray("tokens_per_path"));
      int pathCount = mode.equals("sequential") ? 1 : p;
      int cap = mode.equals("sequential") ? 16 * p : 16;
      assertEquals(pathCount, tokens.length, r::toString);
      int sum = 0;
      for (int t : tokens) {
        assertTrue(t >= 1 && t <= cap, r::toString);
        sum += t;
      }
      // the summary adds at least <summary> and its forced template to every run (every member in majority)
      assertTrue(r.get("total_tokens").getAsInt() > sum + (mode.equals("majority") ? p : 1), r::toString);
      String answer = r.get("answer").isJsonNull() ? null : r.get("answer").getAsString();
      assertEquals(Grader.equivalent(answer, r.get("gold").getAsString()), r.get("correct").getAsBoolean(), r::toString);
      if (mode.equals("majority")) assertEquals(p, r.getAsJsonArray("votes").size(), r::toString);
      assertTrue(r.get("latency_ms").getAsDouble() > 0, r::toString);
    }
    assertEquals("6", byKey.get("3/parathinker/1").get("gold").getAsString()); // a missing id is the line number
    for (String id : List.of("add", "half", "3")) {
      // at P = 1 the three modes make the same request with the same seed
      JsonObject a = byKey.get(id + "/parathinker/1"), s = byKey.get(id + "/sequential/1"), m = byKey.get(id + "/majority/1");
      for (String field : List.of("answer", "tokens_per_path", "total_tokens")) {
        assertEquals(a.get(field), s.get(field), id + " " + field);
        assertEquals(a.get(field), m.get(field), id + " " + field);
      }
    }

    JsonObject summary = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
    JsonArray rows = summary.getAsJsonArray("rows");
    assertEquals(6, rows.size());
    for (JsonElement e : rows) {
      JsonObject row = e.getAsJsonObject();
      List<JsonObject> runs = new ArrayList<>();
      for (JsonObject r : lines) {
        if (r.get("mode").equals(row.get("mode")) && r.get("paths").equals(row.get("paths"))) runs.add(r);
      }
      assertEquals(3, row.get("runs").getAsInt());
      double[] latency = runs.stream().mapToDouble(r -> r.get("latency_ms").getAsDouble()).toArray();
      assertEquals(Arrays.stream(latency).average().orElseThrow(), row.get("mean_latency_ms").getAsDouble(), 1e-9);
      assertEquals(Arrays.stream(latency).max().orElseThrow(), row.get("p95_latency_ms").getAsDouble(), 0); // rank ceil(2.85) = 3
      assertEquals(runs.stream().mapToInt(r -> r.get("total_tokens").getAsInt()).average().orElseThrow(),
          row.get("tokens_per_request").getAsDouble(), 1e-9);
      assertEquals(runs.stream().filter(r -> r.get("correct").getAsBoolean()).count() / 3.0, row.get("accuracy").getAsDouble(), 1e-12);
    }
    assertTrue(first.out().startsWith("mode"), first.out());
    assertEquals(7, first.out().lines().count()); // header + 6 rows
    byte[] png = Files.readAllBytes(out.resolve("accuracy-latency.png"));
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));

    byte[] results = Files.readAllBytes(out.resolve("results.jsonl"));
    byte[] summaryBytes = Files.readAllBytes(out.resolve("summary.json"));
    Run again = Cli.ptk(args);
    assertEquals(0, again.code(), again.err());
    assertTrue(again.err().contains("eval 18/18 runs (18 resumed)") && again.err().contains("no new tokens"), again.err());
    assertArrayEquals(results, Files.readAllBytes(out.resolve("results.jsonl")));
    assertArrayEquals(summaryBytes, Files.readAllBytes(out.resolve("summary.json")));
    assertEquals(first.out(), again.out());
  }

  /** Each run's line of results.jsonl, keyed by (id, mode, P, sample), without its latency. */
  private static Map<String, JsonObject> runs(Path out) throws Exception {
    Map<String, JsonObject> byKey = new TreeMap<>();
    for (String l : Files.readAllLines(out.resolve("results.jsonl"))) {
      JsonObject o = JsonParser.parseString(l).getAsJsonObject();
      o.remove("latency_ms");
      byKey.put(o.get("id").getAsString() + "/" + o.get("mode").getAsString() + "/" + o.get("paths").getAsInt() + "/"
          + o.get("sample").getAsInt(), o);
    }
    return byKey;
  }

  @Test
  void runsDecodedTogetherGiveTheResultsOfRunsOneAtATime() throws Exception {
    String[] plan = {"--paths", "1,2", "--mode", "parathinker,sequential,majority", "--samples", "2", "--max-tokens", "16"};
    Path one = dir.resolve("one"), four = dir.resolve("four");
    Run a = Cli.ptk(evalArgs(one, plan));
    assertEquals(0, a.code(), a.err());
    List<String> concurrent = new ArrayList<>(Arrays.asList(plan));
    concurrent.addAll(List.of("--concurrency", "4"));
    Run b = Cli.ptk(evalArgs(four, concurrent.toArray(String[]::new)));
    assertEquals(0, b.code(), b.err());
    Map<String, JsonObject> want = runs(one);
    assertEquals(3 * 2 * 3 * 2, want.size());
    assertEquals(want, runs(four), "the same answers, tokens and votes per run");
  }

  @Test
  void samplesAndLimit() throws Exception {
    Path out = dir.resolve("out");
    Run r = Cli.ptk(evalArgs(out, "--paths", "2", "--samples", "2", "--limit", "1", "--max-tokens", "16"));
    assertEquals(0, r.code(), r.err());
    List<String> lines = Files.readAllLines(out.resolve("results.jsonl"));
    assertEquals(2, lines.size());
    for (int k = 0; k < 2; k++) {
      JsonObject o = JsonParser.parseString(lines.get(k)).getAsJsonObject();
      assertEquals("add", o.get("id").getAsString());
      assertEquals("parathinker", o.get("mode").getAsString());
      assertEquals(k, o.get("sample").getAsInt());
    }
  }

  @Test
  void badOptionsAreUsageErrors() {
    Path out = dir.resolve("out");
    Cli.assertUsage(Cli.ptk(evalArgs(out, "--max-tokens", "10")), "--max-tokens must be a multiple of 16, got 10");
    Cli.assertUsage(Cli.ptk(evalArgs(out, "--mode", "parathinker,vote")), "--mode: unknown mode 'vote'");
    Cli.assertUsage(Cli.ptk(evalArgs(out, "--paths", "1,0")), "--paths must be a comma list of distinct positive integers, got '1,0'");
    Cli.assertUsage(Cli.ptk(evalArgs(out, "--paths", "2,2")), "--paths must be a comma list of distinct positive integers");
    Cli.assertUsage(Cli.ptk(evalArgs(out, "--paths", "99", "--max-tokens", "16")), "--paths 99 exceeds the model's");
    Cli.assertUsage(Cli.ptk("eval", "--model", TINY.toString()), "missing required option --data");
    Cli.assertUsage(Cli.ptk(evalArgs(out, "--samples", "0")), "--samples must be in [1,");
    assertTrue(Files.notExists(out.resolve("results.jsonl")), "a usage error must not start an evaluation");
  }

  @Test
  void anotherBudgetIntoTheSameDirectoryIsRefused() {
    Path out = dir.resolve("out");
    assertEquals(0, Cli.ptk(evalArgs(out, "--paths", "1", "--limit", "1", "--max-tokens", "16")).code());
    Run r = Cli.ptk(evalArgs(out, "--paths", "1", "--limit", "1", "--max-tokens", "32"));
    assertEquals(1, r.code());
    assertTrue(r.err().contains("the runs there were made with max_tokens 16, this evaluation uses 32"), r.err());
  }
}
