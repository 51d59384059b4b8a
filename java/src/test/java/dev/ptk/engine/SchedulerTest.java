package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.Backend;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.SamplingParams;
import dev.ptk.backend.SamplingRequest;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
import dev.ptk.testing.TestVectors;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Continuous batching on the tiny checkpoint (CPU backend): a request's tokens depend only on its
 * own inputs, whatever runs beside it; admission waits in order of arrival; cancellation and
 * identical prompt pages free and share pages as they should.
 */
class SchedulerTest {
  private static final int PAGE = CpuBackend.DEFAULT_PAGE_SIZE;
  private static final String[] QUESTIONS = {
      "What is 7 times 6?", "Name a prime above 50.", "How many sides has a hexagon?",
      "Is 91 prime? Explain your reasoning step by step before answering.", "2 + 2 = ?",
      "What is the capital of France, and why is it famous?", "Sort 3, 1, 2.", "Solve x + 5 = 12 for x."};
  private static Tokenizer tokenizer;
  private static CpuBackend cpu;

  @BeforeAll
  static void load() {
    tokenizer = Tokenizer.load(TestVectors.tinyModel());
    cpu = TestVectors.tinyBackend(RopeScaling.NONE, 1024);
  }

  @AfterAll
  static void close() {
    cpu.close();
    tokenizer.close();
  }

  /** One request: its question, P, budgets, sampling and termination all differ from its neighbours'. */
  private record Spec(int[] prompt, GenerationOptions options) {}

  private static Spec spec(int i) {
    int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, QUESTIONS[i % QUESTIONS.length], PAGE);
    SamplingParams sampling = i % 3 == 0 ? SamplingParams.greedy() : new SamplingParams(0.5 + 0.1 * (i % 5), i % 2 == 0 ? 0.9 : 1, i % 4 == 1 ? 20 : 0, 1000 + i);
    Termination termination = i % 4 == 2 ? Termination.ALL : Termination.FIRST_FINISH;
    SummaryPosition position = i % 5 == 4 ? SummaryPosition.TRAINING : SummaryPosition.ENGINE;
    return new Spec(prompt, new GenerationOptions(1 + i % 4, PAGE * (2 + i % 3), sampling, termination, position, 8 + i % 6));
  }

  private static ParaThinkerEngine engine(Backend backend, int maxRunning, int stepTokens) {
    ControlTokens tokens = ControlTokens.from(tokenizer.special(), ParaThinkerPrompt.summaryIds(tokenizer));
    return new ParaThinkerEngine(backend, tokens, tokenizer::decode, maxRunning, stepTokens);
  }

  private static GenerationResult alone(Spec s) {
    return engine(cpu, 1, Scheduler.DEFAULT_STEP_TOKENS).generate(s.prompt, s.options, ProgressListener.NONE);
  }

  private static void assertSameTokens(GenerationResult want, GenerationResult got, String what) {
    assertEquals(want.paths().size(), got.paths().size(), what + ": paths");
    for (int p = 0; p < want.paths().size(); p++) {
      assertArrayEquals(want.paths().get(p).tokens(), got.paths().get(p).tokens(), what + ": path " + (p + 1));
      assertEquals(want.paths().get(p).finish(), got.paths().get(p).finish(), what + ": finish of path " + (p + 1));
    }
    assertArrayEquals(want.summaryTokens(), got.summaryTokens(), what + ": summary");
    assertEquals(want.text(), got.text(), what + ": text");
  }

  @Test
  void aRequestGivesTheSameTokensAloneOrAmongFifteenOthersAdmittedAtDifferentSteps() {
    int n = 16;
    List<Spec> specs = new ArrayList<>();
    List<GenerationResult> solo = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      specs.add(spec(i));
      solo.add(alone(specs.get(i)));
    }
    // Small steps: prompts are prefilled in chunks beside other requests' decode rows.
    ParaThinkerEngine engine = engine(cpu, n, 3 * PAGE);
    List<RequestHandle> handles = new ArrayList<>();
    int mostRunning = 0;
    for (int i = 0; i < n; i++) {
      handles.add(engine.submit(specs.get(i).prompt, specs.get(i).options, ProgressListener.NONE));
      for (int s = 0; s < i % 3; s++) engine.step();  // arrivals spread over the run
      mostRunning = Math.max(mostRunning, engine.scheduler().running());
    }
    engine.runUntilIdle();
    for (int i = 0; i < n; i++) assertSameTokens(solo.get(i), handles.get(i).join(), "request " + i);
    assertTrue(mostRunning >= 8, "requests ran together: at most " + mostRunning + " at once");
    assertEquals(cpu.numPages(), engine.freeKvPages(), "every page is free after the run");
    assertEquals(0, engine.scheduler().cachedPrefixPages(), "the prefix cache forgets freed pages");
  }

  @Test
  void requestsThatDoNotFitWaitInOrderOfArrivalAndAllFinish() {
    Spec s = spec(1);
    int budget = KvBudget.of(s.prompt.length, s.options, PAGE, cpu.config().maxPositionEmbeddings()).total();
    // Room for two requests' worst cases (distinct prompts: nothing shared) but not three.
    try (CpuBackend small = TestVectors.tinyBackend(RopeScaling.NONE, 2 * budget + 1)) {
      ParaThinkerEngine engine = engine(small, 16, Scheduler.DEFAULT_STEP_TOKENS);
      List<Long> started = new ArrayList<>();
      List<RequestHandle> handles = new ArrayList<>();
      List<Spec> specs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, QUESTIONS[1] + " (" + i + ")", PAGE);
        Spec si = new Spec(prompt, s.options);
        specs.add(si);
        long id = i;
        handles.add(engine.submit(prompt, s.options, new ProgressListener() {
          @Override
          public void onStep(Progress progress) {}

          @Override
          public void onPhase(Phase phase) {
            if (phase == Phase.THINKING) started.add(id);
          }
        }));
      }
      engine.step();
      assertEquals(2, engine.scheduler().running(), "two fit");
      assertEquals(2, engine.scheduler().waiting(), "two wait");
      engine.runUntilIdle();
      assertEquals(List.of(0L, 1L, 2L, 3L), started, "admitted in order of arrival");
      for (int i = 0; i < 4; i++) assertSameTokens(alone(specs.get(i)), handles.get(i).join(), "request " + i);
      assertEquals(small.numPages(), engine.freeKvPages());
    }
  }

  @Test
  void aCancelledRequestLeavesAtTheNextStepFreesItsPagesAndDisturbsNoOther() {
    Spec a = spec(2), b = spec(5), c = spec(7);
    ParaThinkerEngine engine = engine(cpu, 16, Scheduler.DEFAULT_STEP_TOKENS);
    RequestHandle ha = engine.submit(a.prompt, a.options, ProgressListener.NONE);
    RequestHandle hb = engine.submit(b.prompt, b.options, ProgressListener.NONE);
    RequestHandle hc = engine.submit(c.prompt, c.options, ProgressListener.NONE);
    for (int s = 0; s < 4; s++) engine.step();
    assertTrue(!hb.isDone(), "still thinking");
    int freeBefore = engine.freeKvPages();
    hb.cancel();
    engine.step();
    assertTrue(hb.isDone());
    assertThrows(CancellationException.class, hb::join);
    assertTrue(engine.freeKvPages() > freeBefore, "its pages are free: " + engine.freeKvPages() + " > " + freeBefore);
    engine.runUntilIdle();
    assertSameTokens(alone(a), ha.join(), "request a");
    assertSameTokens(alone(c), hc.join(), "request c");
    assertEquals(cpu.numPages(), engine.freeKvPages());

    RequestHandle waiting = engine.submit(a.prompt, a.options, ProgressListener.NONE);
    waiting.cancel();  // cancelled before it ran
    engine.runUntilIdle();
    assertThrows(CancellationException.class, waiting::join);
    assertEquals(cpu.numPages(), engine.freeKvPages());
  }

  /** Counts the prompt tokens the backend is asked to prefill (tokens of groups that see no other segment). */
  private static final class CountingBackend implements Backend {
    final Backend inner;
    int prefilled;

    CountingBackend(Backend inner) {
      this.inner = inner;
    }

    private void count(ForwardBatch b) {
      for (AttentionGroup g : b.groups()) if (g.visible().isEmpty()) prefilled += g.numTokens();
    }

    @Override
    public ModelConfig config() {
      return inner.config();
    }

    @Override
    public int pageSize() {
      return inner.pageSize();
    }

    @Override
    public int numPages() {
      return inner.numPages();
    }

    @Override
    public float[][] forward(ForwardBatch batch) {
      count(batch);
      return inner.forward(batch);
    }

    @Override
    public int[] sample(ForwardBatch batch, SamplingRequest request) {
      count(batch);
      return inner.sample(batch, request);
    }

    @Override
    public String describe() {
      return "counting " + inner.describe();
    }

    @Override
    public void close() {}
  }

  @Test
  void samplesOfOneProblemPrefillTheirPromptOnceAndDrawAsIfAlone() {
    int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, QUESTIONS[3], PAGE);
    CountingBackend counting = new CountingBackend(cpu);
    ParaThinkerEngine engine = engine(counting, 16, Scheduler.DEFAULT_STEP_TOKENS);
    List<RequestHandle> handles = new ArrayList<>();
    List<Spec> specs = new ArrayList<>();
    for (int k = 0; k < 5; k++) {  // majority voting: K samples, one seed each
      Spec s = new Spec(prompt, new GenerationOptions(2, 2 * PAGE, new SamplingParams(0.8, 1, 0, 77 + k),
          Termination.FIRST_FINISH, SummaryPosition.ENGINE, 10));
      specs.add(s);
      handles.add(engine.submit(prompt, s.options, ProgressListener.NONE));
    }
    engine.runUntilIdle();
    assertEquals(prompt.length, counting.prefilled, "the prompt was prefilled once for all five");
    for (int k = 0; k < 5; k++) assertSameTokens(alone(specs.get(k)), handles.get(k).join(), "sample " + k);
    assertEquals(cpu.numPages(), engine.freeKvPages());
  }

  @Test
  void whenTheRequestWritingSharedPromptPagesLeavesAnotherWritesTheRest() {
    int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, QUESTIONS[5], PAGE);
    assertTrue(prompt.length >= 3 * PAGE, "a prompt of several pages: " + prompt.length);
    Spec s = new Spec(prompt, new GenerationOptions(2, 2 * PAGE, SamplingParams.greedy(), Termination.FIRST_FINISH,
        SummaryPosition.ENGINE, 10));
    CountingBackend counting = new CountingBackend(cpu);
    ParaThinkerEngine engine = engine(counting, 16, PAGE);  // one prompt page per step
    RequestHandle writer = engine.submit(prompt, s.options, ProgressListener.NONE);
    RequestHandle sharer = engine.submit(prompt, s.options, ProgressListener.NONE);
    engine.step();
    assertEquals(PAGE, counting.prefilled, "the first page, by the first request");
    writer.cancel();
    engine.runUntilIdle();
    assertThrows(CancellationException.class, writer::join);
    assertEquals(prompt.length, counting.prefilled, "the rest by the second: no page written twice");
    assertSameTokens(alone(s), sharer.join(), "the second request");
    assertEquals(cpu.numPages(), engine.freeKvPages());
  }
}
