package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import dev.ptk.backend.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The engine's rules (SEMANTICS.md §9.1-9.4) on a scripted backend whose logits force chosen tokens:
 * rewriting, padding to a page boundary, termination rules, the summary template, cap and
 * position, and page sharing. Page size 4, prompt of 8 tokens.
 */
class EngineStateMachineTest {
  // A small vocabulary: <think1..8> = 10,12,..,24, </think1..8> = 11,13,..,25.
  static final int THINK = 5, END_THINK = 6, SUMMARY = 26, END_SUMMARY = 27, PAD = 28, FILL = 50;
  static final int[] STARTS = {10, 12, 14, 16, 18, 20, 22, 24};
  static final int[] ENDS = {11, 13, 15, 17, 19, 21, 23, 25};
  static final int[] TEMPLATE = {SUMMARY, 30, 31, 32};
  static final int[] STOPS = {END_THINK, 11, 13, 15, 17, 19, 21, 23, 25, END_SUMMARY};
  static final ControlTokens CONTROL = new ControlTokens(STARTS, ENDS, THINK, SUMMARY, END_SUMMARY, PAD, STOPS, TEMPLATE);
  static final int[] PROMPT = {1, 1, 40, 41, 42, 43, THINK, PAD};
  static final int LP = PROMPT.length;
  static final int B = 4;

  /** Path i samples {@code paths[i-1][k]} after its token k; the summary samples {@code summary[j]} at its j-th free step. */
  static ScriptedBackend.Script script(int[][] paths, int[] summary, int summaryBase) {
    return (segment, position, token) -> {
      if (segment > 0) return at(paths[segment - 1], position - LP);
      return at(summary, position - summaryBase - (TEMPLATE.length - 1));
    };
  }

  static int at(int[] a, int i) {
    return i < a.length ? a[i] : FILL;
  }

  static GenerationOptions options(int paths, int maxTokens, Termination termination, SummaryPosition position, int cap) {
    return new GenerationOptions(paths, maxTokens, SamplingParams.greedy(), termination, position, cap);
  }

  static GenerationResult run(ScriptedBackend backend, GenerationOptions options) {
    return run(backend, options, ProgressListener.NONE);
  }

  static GenerationResult run(ScriptedBackend backend, GenerationOptions options, ProgressListener listener) {
    ParaThinkerEngine engine = new ParaThinkerEngine(backend, CONTROL, Arrays::toString);
    GenerationResult r = engine.generate(PROMPT, options, listener);
    assertEquals(backend.numPages(), engine.pool().freePages(), "every page is free after the request");
    return r;
  }

  static List<ForwardBatch> summaryBatches(ScriptedBackend backend) {
    List<ForwardBatch> out = new ArrayList<>();
    for (ForwardBatch b : backend.batches) if (b.groups().get(0).visible().size() > 1) out.add(b);
    return out;
  }

  @Test
  void firstFinishRewritesPadsAndCutsTheOtherPaths() {
    int[][] samples = {
        {STARTS[2], SUMMARY},          // path 1 samples <think3>, then <summary>: both become <think>
        {41, 42, 43, 44, END_THINK},    // path 2 stops at output index 5: </think2>, then pads to 8
        {}};
    ScriptedBackend backend = new ScriptedBackend(B, 256, 32, script(samples, new int[] {45, 46, ENDS[0]}, 2 * LP + 8));
    GenerationResult r = run(backend, options(3, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128));

    assertArrayEquals(new int[] {10, THINK, THINK, FILL, FILL, FILL, FILL, FILL}, r.paths().get(0).tokens());
    assertArrayEquals(new int[] {12, 41, 42, 43, 44, 13, PAD, PAD}, r.paths().get(1).tokens());
    assertArrayEquals(new int[] {14, FILL, FILL, FILL, FILL, FILL, FILL, FILL}, r.paths().get(2).tokens());
    assertEquals(List.of(FinishReason.CUT, FinishReason.STOP, FinishReason.CUT),
        r.paths().stream().map(PathOutput::finish).toList());
    assertEquals(8, r.pathLength());
    // Template forced, then free tokens; the stop token (a path end here) is written as </summary>.
    assertArrayEquals(new int[] {SUMMARY, 30, 31, 32, 45, 46, END_SUMMARY}, r.summaryTokens());
    assertEquals(FinishReason.STOP, r.summaryFinish());

    // 1 prefill + 8 lockstep steps (tokens 0..7 of every path) + 6 summary steps.
    assertEquals(15, backend.batches.size());
    ForwardBatch prefill = backend.batches.get(0);
    assertArrayEquals(PROMPT, prefill.tokens());
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, prefill.positions());
    assertArrayEquals(new int[8], prefill.segmentIds());
    assertEquals(0, prefill.logitRows().length, "the token sampled after the prompt is discarded");
    KvSegment prompt = prefill.groups().get(0).own();
    for (int k = 0; k < 8; k++) {
      ForwardBatch step = backend.batches.get(1 + k);
      assertArrayEquals(new int[] {LP + k, LP + k, LP + k}, step.positions(), "all paths at Lp + k");
      assertArrayEquals(new int[] {1, 2, 3}, step.segmentIds());
      for (int i = 0; i < 3; i++) {
        AttentionGroup g = step.groups().get(i);
        assertEquals(1, g.visible().size());
        assertSame(g.visible().get(0), backend.batches.get(1).groups().get(0).visible().get(0),
            "one prompt segment object for every path and step");
        assertArrayEquals(prompt.pages(), g.visible().get(0).pages(), "paths read the prompt's own pages");
        assertEquals(k + 1, g.own().length());
      }
    }
    List<ForwardBatch> summary = summaryBatches(backend);
    assertEquals(6, summary.size());
    for (int t = 0; t < 6; t++) {
      ForwardBatch b = summary.get(t);
      assertArrayEquals(new int[] {2 * LP + 8 + t}, b.positions(), "summary position 2*Lp + n + t");
      assertArrayEquals(new int[] {0}, b.segmentIds());
      assertEquals(t + 1 < TEMPLATE.length ? 0 : 1, b.logitRows().length, "no logits for forced template steps");
      AttentionGroup g = b.groups().get(0);
      assertArrayEquals(PROMPT, backend.read(g.visible().get(0)));
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(r.paths().get(i).tokens(), backend.read(g.visible().get(1 + i)), "path " + (i + 1) + " by reference");
        assertArrayEquals(backend.batches.get(8).groups().get(i).own().pages(), g.visible().get(1 + i).pages(),
            "the summary reads the path's own pages (no copy)");
      }
      assertArrayEquals(Arrays.copyOf(r.summaryTokens(), t + 1), backend.read(g.own()));
    }
    // Draw keys: the path (the summary is 0) and the index in its output of the token drawn.
    assertEquals(8 + 3, backend.requests.size(), "a draw per lockstep step and per free summary step");
    for (int k = 0; k < 8; k++) {
      assertArrayEquals(new int[] {1, 2, 3}, backend.requests.get(k).pathIds());
      assertArrayEquals(new int[] {k + 1, k + 1, k + 1}, backend.requests.get(k).steps());
    }
    for (int j = 0; j < 3; j++) {
      assertArrayEquals(new int[] {0}, backend.requests.get(8 + j).pathIds());
      assertArrayEquals(new int[] {TEMPLATE.length + j}, backend.requests.get(8 + j).steps());
    }
  }

  @Test
  void aStopOnAPageBoundaryFinishesWithoutPads() {
    int[][] samples = {{41, 42, END_THINK}, {}};
    ScriptedBackend backend = new ScriptedBackend(B, 256, 32, script(samples, new int[] {END_SUMMARY}, 2 * LP + 4));
    GenerationResult r = run(backend, options(2, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128));
    assertArrayEquals(new int[] {10, 41, 42, 11}, r.paths().get(0).tokens());
    assertArrayEquals(new int[] {12, FILL, FILL, FILL}, r.paths().get(1).tokens());
    assertEquals(4, r.pathLength());
    assertArrayEquals(new int[] {SUMMARY, 30, 31, 32, END_SUMMARY}, r.summaryTokens());
  }

  @Test
  void allLetsFinishedPathsLeaveTheBatchAndBasesTheSummaryOnTheLongest() {
    int[][] samples = {{41, 42, END_THINK}, {41, 42, 43, 44, 45, 46, 47, 48, STOPS[3]}};
    ScriptedBackend backend = new ScriptedBackend(B, 256, 32, script(samples, new int[] {END_SUMMARY}, 2 * LP + 12));
    GenerationResult r = run(backend, options(2, 64, Termination.ALL, SummaryPosition.ENGINE, 128));
    assertArrayEquals(new int[] {10, 41, 42, 11}, r.paths().get(0).tokens());
    assertArrayEquals(new int[] {12, 41, 42, 43, 44, 45, 46, 47, 48, 13, PAD, PAD}, r.paths().get(1).tokens(),
        "a sampled </think4> becomes path 2's own end token");
    assertTrue(r.paths().stream().allMatch(PathOutput::finished));
    assertEquals(12, r.pathLength());
    int[] batchSizes = backend.batches.subList(1, 13).stream().mapToInt(ForwardBatch::size).toArray();
    assertArrayEquals(new int[] {2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1}, batchSizes);
    assertArrayEquals(new int[] {2}, backend.requests.get(4).pathIds(), "a finished path leaves the draw keys too");
    assertArrayEquals(new int[] {5}, backend.requests.get(4).steps(), "path 2 draws its token 5 whatever the batch");
    ForwardBatch firstSummary = summaryBatches(backend).get(0);
    assertArrayEquals(new int[] {2 * LP + 12}, firstSummary.positions());
    assertEquals(4, firstSummary.groups().get(0).visible().get(1).length());
    assertEquals(12, firstSummary.groups().get(0).visible().get(2).length());
  }

  @Test
  void ratioWaitsForItsShareOfPaths() {
    int[][] samples = {{41, 42, END_THINK}, {}, {41, 42, 43, 44, 45, 46, END_THINK}, {}};
    ScriptedBackend backend = new ScriptedBackend(B, 256, 32, script(samples, new int[] {END_SUMMARY}, 2 * LP + 8));
    GenerationResult r = run(backend, options(4, 64, Termination.ratio(0.5), SummaryPosition.ENGINE, 128));
    assertEquals(List.of(FinishReason.STOP, FinishReason.CUT, FinishReason.STOP, FinishReason.CUT),
        r.paths().stream().map(PathOutput::finish).toList());
    assertEquals(List.of(4, 8, 8, 8), r.paths().stream().map(p -> p.tokens().length).toList());
    assertEquals(8, r.pathLength());
  }

  @Test
  void firstFinishEndsThinkingAtTheFirstFinishedPathForUpToTenPaths() {
    int[][] samples = new int[10][];
    Arrays.fill(samples, new int[0]);
    samples[9] = new int[] {41, 42, END_THINK};
    ScriptedBackend backend = new ScriptedBackend(B, 256, 32, script(samples, new int[] {END_SUMMARY}, 2 * LP + 4));
    GenerationResult r = run(backend, options(10, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128));
    assertEquals(4, r.pathLength());
    assertEquals(1, r.paths().stream().filter(PathOutput::finished).count());
  }

  @Test
  void pathsStopAtMaxTokens() {
    ScriptedBackend backend = new ScriptedBackend(B, 256, 32, script(new int[2][0], new int[] {END_SUMMARY}, 2 * LP + 8));
    GenerationResult r = run(backend, options(2, 8, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128));
    assertEquals(List.of(FinishReason.LENGTH, FinishReason.LENGTH), r.paths().stream().map(PathOutput::finish).toList());
    assertEquals(8, r.pathLength());
    assertEquals(9, backend.batches.size() - summaryBatches(backend).size(), "prefill + 8 steps");
  }

  @Test
  void summaryStopsAtItsCapCountingTheSummaryToken() {
    int[][] samples = {{41, 42, END_THINK}};
    ScriptedBackend backend = new ScriptedBackend(B, 256, 32, script(samples, new int[] {45, 46, 47}, 2 * LP + 4));
    GenerationResult r = run(backend, options(1, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 5));
    assertArrayEquals(new int[] {SUMMARY, 30, 31, 32, 45}, r.summaryTokens());
    assertEquals(FinishReason.LENGTH, r.summaryFinish());

    backend = new ScriptedBackend(B, 256, 32, script(samples, new int[0], 2 * LP + 4));
    r = run(backend, options(1, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 3));
    assertArrayEquals(new int[] {SUMMARY, 30, 31}, r.summaryTokens(), "a cap inside the template cuts it");
  }

  @Test
  void trainingPositionPutsTheSummaryAtLpPlusN() {
    int[][] samples = {{41, 42, END_THINK}};
    ScriptedBackend backend = new ScriptedBackend(B, 256, 32, script(samples, new int[] {END_SUMMARY}, LP + 4));
    GenerationResult r = run(backend, options(1, 64, Termination.FIRST_FINISH, SummaryPosition.TRAINING, 128));
    assertArrayEquals(new int[] {SUMMARY, 30, 31, 32, END_SUMMARY}, r.summaryTokens());
    assertArrayEquals(new int[] {LP + 4}, summaryBatches(backend).get(0).positions());
  }

  @Test
  void pathsPastTheTrainedRangeWarnAndReuseStartTokens() {
    int[][] samples = new int[9][];
    Arrays.fill(samples, new int[] {41, 42, END_THINK});
    ScriptedBackend backend = new ScriptedBackend(B, 256, 32, script(samples, new int[] {END_SUMMARY}, 2 * LP + 4));
    List<String> warnings = new ArrayList<>();
    GenerationResult r = run(backend, options(9, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128),
        new ProgressListener() {
          @Override
          public void onStep(Progress progress) {}

          @Override
          public void onWarning(String message) {
            warnings.add(message);
          }
        });
    assertEquals(1, warnings.size());
    assertTrue(warnings.get(0).contains("P = 9"), warnings.get(0));
    assertArrayEquals(new int[] {10, 41, 42, 11}, r.paths().get(8).tokens(), "path 9 starts with <think1>, ends with </think1>");
    assertEquals(9, backend.batches.get(1).segmentIds()[8], "path 9 has segment id 9");
  }

  @Test
  void theSameSeedReplaysARequest() {
    SamplingParams hot = new SamplingParams(1.0, 1.0, 0, 1234);
    GenerationOptions o = new GenerationOptions(3, 64, hot, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 16);
    GenerationResult a = run(new ScriptedBackend(B, 256, 32, script(new int[3][0], new int[0], 0)), o);
    GenerationResult b = run(new ScriptedBackend(B, 256, 32, script(new int[3][0], new int[0], 0)), o);
    GenerationResult c = run(new ScriptedBackend(B, 256, 32, script(new int[3][0], new int[0], 0)),
        new GenerationOptions(3, 64, new SamplingParams(1.0, 1.0, 0, 1235), Termination.FIRST_FINISH, SummaryPosition.ENGINE, 16));
    assertEquals(Arrays.toString(a.paths().get(0).tokens()) + Arrays.toString(a.summaryTokens()),
        Arrays.toString(b.paths().get(0).tokens()) + Arrays.toString(b.summaryTokens()));
    assertEquals(a.text(), b.text());
    assertNotEquals(a.text(), c.text());
    assertEquals(1234, a.seed());
  }

  @Test
  void rejectsBadRequestsNamingTheArgument() {
    ScriptedBackend backend = new ScriptedBackend(B, 256, 32, script(new int[0][], new int[0], 0));
    ParaThinkerEngine engine = new ParaThinkerEngine(backend, CONTROL, Arrays::toString);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> engine.generate(PROMPT, options(32, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128), ProgressListener.NONE));
    assertTrue(e.getMessage().startsWith("paths must be in [1, 31]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> options(0, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128));
    assertTrue(e.getMessage().startsWith("paths"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> engine.generate(PROMPT, options(2, 66, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128), ProgressListener.NONE));
    assertTrue(e.getMessage().contains("maxTokens must be a multiple of the KV page size 4"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> engine.generate(Arrays.copyOf(PROMPT, 7), options(2, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128), ProgressListener.NONE));
    assertTrue(e.getMessage().contains("multiple of the page size"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> engine.generate(new int[4096], options(2, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128), ProgressListener.NONE));
    assertTrue(e.getMessage().contains("does not fit the model's context of 4096"), e.getMessage());
    assertEquals(backend.numPages(), engine.pool().freePages());
  }

  @Test
  void aRequestThatCanNeverFitThePoolIsRefusedAtOnceNamingTheNumbers() {
    ScriptedBackend backend = new ScriptedBackend(B, 5, 32, script(new int[2][0], new int[0], 0));
    ParaThinkerEngine engine = new ParaThinkerEngine(backend, CONTROL, Arrays::toString);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> engine.generate(PROMPT, options(2, 64, Termination.FIRST_FINISH, SummaryPosition.ENGINE, 128), ProgressListener.NONE));
    assertEquals("the request needs up to " + (PROMPT.length / B + 2 * 64 / B + 128 / B) + " KV pages (prompt "
        + PROMPT.length / B + " + 2 paths x " + 64 / B + " + summary " + 128 / B + ") at its longest, the pool has 5 pages"
        + " of 4 tokens; lower maxTokens or paths", e.getMessage());
    assertEquals(5, engine.pool().freePages());
    assertEquals(0, engine.steps(), "nothing ran");
  }
}
