package dev.ptk.eval;

import dev.ptk.answer.AnswerExtractor;
import dev.ptk.answer.Grader;
import dev.ptk.answer.MajorityVote;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs an {@link EvalPlan} over problems with a {@link Solver}, skipping runs already in the
 * {@link ResultLog} and appending the others as they finish. Progress goes to one stderr line per
 * run: runs done of the total, accuracy so far, and generated tokens per second.
 */
public final class Evaluator {
  private final Solver solver;
  private final EvalPlan plan;
  private final PrintStream progress;

  public Evaluator(Solver solver, EvalPlan plan, PrintStream progress) {
    this.solver = solver;
    this.plan = plan;
    this.progress = progress;
  }

  /** Every run of the plan, in plan order (mode, P, sample, problem), resumed or new. */
  public List<RunResult> run(List<Problem> problems, ResultLog log) {
    int total = problems.size() * plan.runsPerProblem();
    List<RunResult> results = new ArrayList<>(total);
    int correct = 0, resumed = 0;
    long tokens = 0, nanos = 0;
    for (Mode mode : plan.modes()) {
      for (int p : plan.paths()) {
        for (int sample = 0; sample < plan.samples(); sample++) {
          for (Problem problem : problems) {
            RunResult r = log.get(new RunResult.Key(problem.id(), mode, p, sample));
            if (r != null) {
              resumed++;
            } else {
              try {
                r = solve(problem, mode, p, sample);
              } catch (RuntimeException e) { // the runs done so far are in the log; a rerun resumes here
                throw new IllegalStateException("problem " + problem.id() + " (" + mode.label() + ", P=" + p + ", sample "
                    + sample + "): " + e.getMessage(), e);
              }
              nanos += Math.round(r.latencyMs() * 1e6);
              tokens += r.totalTokens();
              log.append(r);
            }
            results.add(r);
            if (r.correct()) correct++;
            progress.printf("eval %d/%d runs%s | %s P=%d sample %d id %s: %s | accuracy %.1f%% | %s%n",
                results.size(), total, resumed > 0 ? " (" + resumed + " resumed)" : "", mode.label(), p, sample,
                problem.id(), r.correct() ? "correct" : "wrong", 100.0 * correct / results.size(),
                nanos > 0 ? String.format("%.1f tok/s", tokens * 1e9 / nanos) : "no new tokens");
          }
        }
      }
    }
    return results;
  }

  private RunResult solve(Problem problem, Mode mode, int p, int sample) {
    if (mode == Mode.MAJORITY) return majority(problem, p, sample);
    int paths = mode == Mode.PARATHINKER ? p : 1;
    int budget = mode == Mode.PARATHINKER ? plan.maxTokens() : p * plan.maxTokens();
    long t0 = System.nanoTime();
    Generation g = solver.generate(problem.problem(), paths, budget, plan.seed() + sample);
    double ms = (System.nanoTime() - t0) / 1e6;
    String answer = AnswerExtractor.extract(g.summary(), g.paths()).answer();
    return new RunResult(problem.id(), mode, p, sample, answer, problem.answer(), Grader.equivalent(answer, problem.answer()),
        g.pathTokens(), g.totalTokens(), ms, List.of());
  }

  /** P one-path runs one after another; the latency is their sum. */
  private RunResult majority(Problem problem, int p, int sample) {
    List<String> votes = new ArrayList<>();
    List<Integer> pathTokens = new ArrayList<>();
    int total = 0;
    double ms = 0;
    for (int member = 0; member < p; member++) {
      long t0 = System.nanoTime();
      Generation g = solver.generate(problem.problem(), 1, plan.maxTokens(), plan.seed() + (long) sample * p + member);
      ms += (System.nanoTime() - t0) / 1e6;
      votes.add(AnswerExtractor.extract(g.summary(), g.paths()).answer());
      pathTokens.addAll(g.pathTokens());
      total += g.totalTokens();
    }
    String answer = MajorityVote.winner(votes);
    return new RunResult(problem.id(), Mode.MAJORITY, p, sample, answer, problem.answer(),
        Grader.equivalent(answer, problem.answer()), pathTokens, total, ms, votes);
  }
}
