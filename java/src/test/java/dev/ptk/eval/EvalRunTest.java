package dev.ptk.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evaluation loop with a scripted solver: budgets per mode, votes, resume and report files. */
class EvalRunTest {
  private static final int N = 32;
  private static final long SEED = 100;
  @TempDir Path out;

  /** A solver whose answer depends on the seed only; it records every call. */
  private static final class ScriptedSolver implements Solver {
    final Map<Long, String> answers;
    final List<String> calls = new ArrayList<>();

    ScriptedSolver(Map<Long, String> answers) {
      this.answers = answers;
    }

    @Override
    public Generation generate(String problem, int paths, int maxTokens, long seed) {
      calls.add(problem + " P=" + paths + " max=" + maxTokens + " seed=" + seed);
      String answer = answers.getOrDefault(seed, "0");
      List<String> texts = Collections.nCopies(paths, "thinking");
      List<Integer> tokens = Collections.nCopies(paths, maxTokens / 2);
      return new Generation("The final answer is \\boxed{" + answer + "}", texts, tokens, 10);
    }
  }

  private static final List<Problem> PROBLEMS = List.of(new Problem("p1", "one", "3"), new Problem("p2", "two", "0.5"));

  private static String text(ByteArrayOutputStream b) {
    return b.toString(StandardCharsets.UTF_8);
  }

  @Test
  void eachModeSpendsItsBudgetTheWayItShould() {
    ScriptedSolver solver = new ScriptedSolver(Map.of());
    EvalPlan plan = new EvalPlan(List.of(Mode.PARATHINKER, Mode.SEQUENTIAL, Mode.MAJORITY), List.of(2), 2, N, SEED);
    EvalRun.run(solver, "m", PROBLEMS.subList(0, 1), plan, out, new PrintStream(new ByteArrayOutputStream()),
        new PrintStream(new ByteArrayOutputStream()));
    assertEquals(List.of(
        "one P=2 max=32 seed=100", "one P=2 max=32 seed=101",                   // parathinker: P paths, N each
        "one P=1 max=64 seed=100", "one P=1 max=64 seed=101",                   // sequential: one path, P x N
        "one P=1 max=32 seed=100", "one P=1 max=32 seed=101",                   // majority sample 0: seeds S+0, S+1
        "one P=1 max=32 seed=102", "one P=1 max=32 seed=103"), solver.calls);   // majority sample 1: S+2, S+3
  }

  @Test
  void majorityVotesOverItsMembersAndRecordsThem() throws Exception {
    // P = 3, sample 0: members with seeds 100, 101, 102 answer 7, 3, 3.0 -> 3 wins and is correct
    ScriptedSolver solver = new ScriptedSolver(Map.of(100L, "7", 101L, "3", 102L, "3.0"));
    EvalPlan plan = new EvalPlan(List.of(Mode.MAJORITY), List.of(3), 1, N, SEED);
    List<Summary.Row> rows = EvalRun.run(solver, "m", PROBLEMS.subList(0, 1), plan, out,
        new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream()));
    JsonObject line = JsonParser.parseString(Files.readAllLines(out.resolve(EvalRun.RESULTS)).get(0)).getAsJsonObject();
    assertEquals("3", line.get("answer").getAsString());
    assertTrue(line.get("correct").getAsBoolean());
    assertEquals("[\"7\",\"3\",\"3.0\"]", line.get("votes").toString());
    assertEquals("[16,16,16]", line.get("tokens_per_path").toString());
    assertEquals(3 * (16 + 10), line.get("total_tokens").getAsInt());
    assertEquals(1.0, rows.get(0).accuracy());
  }

  @Test
  void aSecondRunDoesNoNewWorkAndReportsTheSame() throws Exception {
    EvalPlan plan = new EvalPlan(List.of(Mode.PARATHINKER, Mode.MAJORITY), List.of(1, 2), 1, N, SEED);
    ScriptedSolver first = new ScriptedSolver(Map.of(100L, "3", 101L, "1/2"));
    ByteArrayOutputStream out1 = new ByteArrayOutputStream();
    ByteArrayOutputStream err1 = new ByteArrayOutputStream();
    EvalRun.run(first, "m", PROBLEMS, plan, out, new PrintStream(out1), new PrintStream(err1));
    assertEquals(2 * (1 + 1 + 1 + 2), first.calls.size());
    assertTrue(text(err1).contains("eval 8/8 runs"), text(err1));
    byte[] results = Files.readAllBytes(out.resolve(EvalRun.RESULTS));
    byte[] summary = Files.readAllBytes(out.resolve(EvalRun.SUMMARY));
    assertEquals(8, new String(results, StandardCharsets.UTF_8).lines().count());

    Solver mustNotRun = (problem, paths, max, seed) -> {
      throw new AssertionError("a resumed evaluation solved " + problem + " again");
    };
    ByteArrayOutputStream out2 = new ByteArrayOutputStream();
    ByteArrayOutputStream err2 = new ByteArrayOutputStream();
    EvalRun.run(mustNotRun, "m", PROBLEMS, plan, out, new PrintStream(out2), new PrintStream(err2));
    assertArrayEquals(results, Files.readAllBytes(out.resolve(EvalRun.RESULTS)));
    assertArrayEquals(summary, Files.readAllBytes(out.resolve(EvalRun.SUMMARY)));
    assertEquals(text(out1), text(out2));
    assertTrue(text(err2).contains("eval 8/8 runs (8 resumed)"), text(err2));
  }

  @Test
  void anInterruptedLogIsResumedFromItsLastCompleteLine() throws Exception {
    EvalPlan plan = new EvalPlan(List.of(Mode.PARATHINKER), List.of(1), 1, N, SEED);
    EvalRun.run(new ScriptedSolver(Map.of()), "m", PROBLEMS, plan, out, new PrintStream(new ByteArrayOutputStream()),
        new PrintStream(new ByteArrayOutputStream()));
    Path log = out.resolve(EvalRun.RESULTS);
    List<String> lines = Files.readAllLines(log);
    Files.writeString(log, lines.get(0) + "\n" + lines.get(1).substring(0, 20)); // killed while writing p2

    ScriptedSolver again = new ScriptedSolver(Map.of());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    EvalRun.run(again, "m", PROBLEMS, plan, out, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err));
    assertEquals(List.of("two P=1 max=32 seed=100"), again.calls);
    assertTrue(text(err).contains(log + ":2: unreadable result"), text(err));
    List<String> now = Files.readAllLines(log);
    assertEquals(3, now.size());
    assertEquals(withoutLatency(lines.get(1)), withoutLatency(now.get(2))); // the same run, timed again
  }

  private static JsonObject withoutLatency(String line) {
    JsonObject o = JsonParser.parseString(line).getAsJsonObject();
    o.remove("latency_ms");
    return o;
  }

  @Test
  void reportFilesAreWritten() throws Exception {
    EvalPlan plan = new EvalPlan(List.of(Mode.PARATHINKER, Mode.SEQUENTIAL), List.of(1, 2), 1, N, SEED);
    ScriptedSolver solver = new ScriptedSolver(Map.of(100L, "3"));
    ByteArrayOutputStream table = new ByteArrayOutputStream();
    EvalRun.run(solver, "m", PROBLEMS, plan, out, new PrintStream(table), new PrintStream(new ByteArrayOutputStream()));
    // p1 (gold 3) is right at seed 100, p2 (gold 0.5) wrong: accuracy 50% everywhere
    JsonObject summary = JsonParser.parseString(Files.readString(out.resolve(EvalRun.SUMMARY))).getAsJsonObject();
    assertEquals(4, summary.getAsJsonArray("rows").size());
    JsonObject seq2 = summary.getAsJsonArray("rows").get(3).getAsJsonObject();
    assertEquals("sequential", seq2.get("mode").getAsString());
    assertEquals(2, seq2.get("paths").getAsInt());
    assertEquals(0.5, seq2.get("accuracy").getAsDouble());
    assertEquals(32 + 10, seq2.get("tokens_per_request").getAsDouble()); // one path of 64 / 2 tokens + summary
    assertTrue(text(table).lines().anyMatch(l -> l.matches("sequential\\s+2\\s+2\\s+50\\.0%.*")), text(table));
    byte[] png = Files.readAllBytes(out.resolve(EvalRun.CHART));
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
  }

  @Test
  void aFailingRunNamesItsProblemAndKeepsTheRunsBeforeIt() throws Exception {
    Solver failsOnTwo = (problem, paths, max, seed) -> {
      if (problem.equals("two")) throw new IllegalArgumentException("prompt too long");
      return new Generation("\\boxed{3}", List.of("x"), List.of(16), 4);
    };
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> EvalRun.run(failsOnTwo, "m", PROBLEMS,
        new EvalPlan(List.of(Mode.PARATHINKER), List.of(1), 1, N, SEED), out, quiet, quiet));
    assertEquals("problem p2 (parathinker, P=1, sample 0): prompt too long", e.getMessage());
    List<String> log = Files.readAllLines(out.resolve(EvalRun.RESULTS));
    assertEquals(1, log.size());
    assertTrue(log.get(0).startsWith("{\"id\":\"p1\""), log.get(0));
  }

  @Test
  void refusesToMixRunsWithAnotherBudget() {
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    EvalRun.run(new ScriptedSolver(Map.of()), "m", PROBLEMS, new EvalPlan(List.of(Mode.PARATHINKER), List.of(1), 1, N, SEED),
        out, quiet, quiet);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalRun.run(
        new ScriptedSolver(Map.of()), "m", PROBLEMS, new EvalPlan(List.of(Mode.PARATHINKER), List.of(1), 1, 64, SEED),
        out, quiet, quiet));
    assertTrue(e.getMessage().contains("max_tokens 32"), e.getMessage());
  }
}
