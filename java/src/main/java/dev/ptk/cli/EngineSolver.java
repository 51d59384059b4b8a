package dev.ptk.cli;

import dev.ptk.backend.Backend;
import dev.ptk.engine.EngineLoop;
import dev.ptk.engine.GenerationOptions;
import dev.ptk.engine.GenerationResult;
import dev.ptk.engine.ParaThinkerEngine;
import dev.ptk.engine.PathOutput;
import dev.ptk.engine.ProgressListener;
import dev.ptk.backend.SamplingParams;
import dev.ptk.engine.SummaryPosition;
import dev.ptk.engine.Termination;
import dev.ptk.eval.Generation;
import dev.ptk.eval.Solver;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ParaThinkerPrompt;
import dev.ptk.model.RopeScaling;
import dev.ptk.model.Tokenizer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * {@code ptk eval}'s solver: the ParaThinker engine with the released sampling settings
 * (temperature 0.5, top-p 1, first-finish, engine summary position, 128-token summary). The RoPE
 * scaling follows each request's per-path budget as in the released example (so a sequential run
 * with P x N tokens gets the YaRN factor of P x N); the backend is reopened only when that changes,
 * which the evaluator does only with nothing in flight. Up to {@code concurrency} requests are
 * decoded together, stepped by an {@link EngineLoop}.
 */
final class EngineSolver implements Solver, AutoCloseable {
  private final String backendName;
  private final Checkpoint checkpoint;
  private final Tokenizer tokenizer;
  private final String yarn;
  private final int pages;
  private final int concurrency;
  private final ProgressListener warnings;
  private RopeScaling scaling;
  private Backend backend;
  private EngineLoop loop;

  /** @param pages KV pool size, enough for {@code concurrency} of the largest request of the evaluation */
  EngineSolver(String backendName, Checkpoint checkpoint, Tokenizer tokenizer, String yarn, int pages, int concurrency,
      PrintStream err) {
    this.backendName = backendName;
    this.checkpoint = checkpoint;
    this.tokenizer = tokenizer;
    this.yarn = yarn;
    this.pages = pages;
    this.concurrency = concurrency;
    this.warnings = new ProgressListener() {
      @Override
      public void onStep(Progress progress) {}

      @Override
      public void onWarning(String message) {
        err.println("ptk eval: " + message);
      }
    };
  }

  @Override
  public Generation generate(String problem, int paths, int maxTokensPerPath, long seed) {
    try {
      return submit(problem, paths, maxTokensPerPath, seed).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      throw e;
    }
  }

  @Override
  public CompletableFuture<Generation> submit(String problem, int paths, int maxTokensPerPath, long seed) {
    RopeScaling want = Backends.yarn(yarn, checkpoint.config().ropeScaling(), GenerationOptions.releasedRopeScaling(maxTokensPerPath));
    if (loop == null || !want.equals(scaling)) {
      close();
      backend = Backends.open(backendName, checkpoint, want, pages);
      loop = new EngineLoop(ParaThinkerEngine.of(backend, tokenizer, concurrency));
      scaling = want;
    }
    int[] prompt = ParaThinkerPrompt.engineIds(tokenizer, problem, Backends.PAGE_SIZE);
    GenerationOptions options = new GenerationOptions(paths, maxTokensPerPath,
        new SamplingParams(GenerationOptions.DEFAULT_TEMPERATURE, 1.0, 0, seed), Termination.FIRST_FINISH,
        SummaryPosition.ENGINE, GenerationOptions.DEFAULT_SUMMARY_MAX_TOKENS);
    return loop.submit(prompt, options, warnings).result().thenApply(EngineSolver::generation);
  }

  private static Generation generation(GenerationResult r) {
    List<String> texts = new ArrayList<>();
    List<Integer> tokens = new ArrayList<>();
    for (PathOutput p : r.paths()) {
      texts.add(p.text());
      tokens.add(p.tokens().length);
    }
    return new Generation(r.summaryText(), texts, tokens, r.summaryTokens().length);
  }

  @Override
  public void close() {
    if (loop != null) loop.close();
    if (backend != null) backend.close();
    loop = null;
    backend = null;
  }
}
