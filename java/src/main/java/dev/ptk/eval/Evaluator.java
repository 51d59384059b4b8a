package dev.ptk.eval;

import dev.ptk.answer.AnswerExtractor;
import dev.ptk.answer.Grader;
import dev.ptk.answer.MajorityVote;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Runs an {@link EvalPlan} over problems with a {@link Solver}, skipping runs already in the
 * {@link ResultLog} and appending the others as they finish. Progress goes to one stderr line per
 * run: runs done of the total, accuracy so far, and generated tokens per second of wall time.
 *
 * <p>With a concurrency of 1 runs go one after another and a majority vote's members too (its
 * latency is their sum). Above 1, up to that many runs are in the solver at once, a majority
 * vote's members together, and a run's latency is its wall time among the others. Runs of one mode
 * and P finish before the next mode or P starts (the solver's RoPE scaling may change there).
 */
public final class Evaluator {
  /** One generation a run asks for. */
  private record Ask(int paths, int maxTokens, long seed) {}

  private record Job(int index, Problem problem, Mode mode, int p, int sample) {
    RunResult.Key key() {
      return new RunResult.Key(problem.id(), mode, p, sample);
    }

    String describe() {
      return "problem " + problem.id() + " (" + mode.label() + ", P=" + p + ", sample " + sample + ")";
    }
  }

  private record InFlight(Job job, long start, List<CompletableFuture<Generation>> members) {
    boolean done() {
      return members.stream().allMatch(CompletableFuture::isDone);
    }
  }

  private final Solver solver;
  private final EvalPlan plan;
  private final PrintStream progress;
  private final int concurrency;
  private int total, done, correct, resumed;
  private long tokens, begun;

  public Evaluator(Solver solver, EvalPlan plan, PrintStream progress) {
    this(solver, plan, progress, 1);
  }

  public Evaluator(Solver solver, EvalPlan plan, PrintStream progress, int concurrency) {
    if (concurrency < 1) throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
    this.solver = solver;
    this.plan = plan;
    this.progress = progress;
    this.concurrency = concurrency;
  }

  /** Every run of the plan, in plan order (mode, P, sample, problem), resumed or new. */
  public List<RunResult> run(List<Problem> problems, ResultLog log) {
    total = problems.size() * plan.runsPerProblem();
    begun = System.nanoTime();
    RunResult[] results = new RunResult[total];
    int index = 0;
    for (Mode mode : plan.modes()) {
      for (int p : plan.paths()) {
        List<Job> jobs = new ArrayList<>();
        for (int sample = 0; sample < plan.samples(); sample++) {
          for (Problem problem : problems) {
            Job job = new Job(index++, problem, mode, p, sample);
            RunResult r = log.get(job.key());
            if (r != null) {
              resumed++;
              finished(job, r, results, null);
            } else {
              jobs.add(job);
            }
          }
        }
        if (concurrency == 1) {
          for (Job job : jobs) finished(job, sequential(job), results, log);
        } else {
          concurrent(jobs, results, log);
        }
      }
    }
    return List.of(results);
  }

  private RunResult sequential(Job job) {
    List<Generation> generations = new ArrayList<>();
    long ns = 0;
    try {
      for (Ask a : asks(job)) {
        long t0 = System.nanoTime();
        generations.add(solver.generate(job.problem.problem(), a.paths, a.maxTokens, a.seed));
        ns += System.nanoTime() - t0;
      }
    } catch (RuntimeException e) {  // the runs done so far are in the log; a rerun resumes here
      throw new IllegalStateException(job.describe() + ": " + e.getMessage(), e);
    }
    return result(job, generations, ns / 1e6);
  }

  private void concurrent(List<Job> jobs, RunResult[] results, ResultLog log) {
    List<InFlight> inFlight = new ArrayList<>();
    int next = 0;
    while (next < jobs.size() || !inFlight.isEmpty()) {
      while (next < jobs.size() && inFlight.size() < concurrency) {
        Job job = jobs.get(next++);
        List<CompletableFuture<Generation>> members = new ArrayList<>();
        long start = System.nanoTime();
        for (Ask a : asks(job)) members.add(solver.submit(job.problem.problem(), a.paths, a.maxTokens, a.seed));
        inFlight.add(new InFlight(job, start, members));
      }
      CompletableFuture.anyOf(inFlight.stream().flatMap(f -> f.members.stream()).toArray(CompletableFuture[]::new))
          .exceptionally(e -> null).join();
      for (InFlight f : List.copyOf(inFlight)) {
        if (!f.done()) continue;
        inFlight.remove(f);
        double ms = (System.nanoTime() - f.start) / 1e6;
        List<Generation> generations = new ArrayList<>();
        try {
          for (CompletableFuture<Generation> m : f.members) generations.add(m.join());
        } catch (RuntimeException e) {
          Throwable cause = e.getCause() != null ? e.getCause() : e;
          throw new IllegalStateException(f.job.describe() + ": " + cause.getMessage(), cause);
        }
        finished(f.job, result(f.job, generations, ms), results, log);
      }
    }
  }

  /** ParaThinker: P paths; sequential: one path of P budgets; majority: P one-path members. */
  private List<Ask> asks(Job job) {
    return switch (job.mode) {
      case PARATHINKER -> List.of(new Ask(job.p, plan.maxTokens(), plan.seed() + job.sample));
      case SEQUENTIAL -> List.of(new Ask(1, job.p * plan.maxTokens(), plan.seed() + job.sample));
      case MAJORITY -> {
        List<Ask> members = new ArrayList<>();
        for (int m = 0; m < job.p; m++) members.add(new Ask(1, plan.maxTokens(), plan.seed() + (long) job.sample * job.p + m));
        yield members;
      }
    };
  }

  private RunResult result(Job job, List<Generation> generations, double ms) {
    Problem problem = job.problem;
    if (job.mode != Mode.MAJORITY) {
      Generation g = generations.get(0);
      String answer = AnswerExtractor.extract(g.summary(), g.paths()).answer();
      return new RunResult(problem.id(), job.mode, job.p, job.sample, answer, problem.answer(),
          Grader.equivalent(answer, problem.answer()), g.pathTokens(), g.totalTokens(), ms, List.of());
    }
    List<String> votes = new ArrayList<>();
    List<Integer> pathTokens = new ArrayList<>();
    int all = 0;
    for (Generation g : generations) {
      votes.add(AnswerExtractor.extract(g.summary(), g.paths()).answer());
      pathTokens.addAll(g.pathTokens());
      all += g.totalTokens();
    }
    String answer = MajorityVote.winner(votes);
    return new RunResult(problem.id(), Mode.MAJORITY, job.p, job.sample, answer, problem.answer(),
        Grader.equivalent(answer, problem.answer()), pathTokens, all, ms, votes);
  }

  /** Records a run (appending a new one to the log) and prints the progress line. */
  private void finished(Job job, RunResult r, RunResult[] results, ResultLog log) {
    if (log != null) {
      tokens += r.totalTokens();
      log.append(r);
    }
    results[job.index] = r;
    done++;
    if (r.correct()) correct++;
    progress.printf("eval %d/%d runs%s | %s P=%d sample %d id %s: %s | accuracy %.1f%% | %s%n",
        done, total, resumed > 0 ? " (" + resumed + " resumed)" : "", job.mode.label(), job.p, job.sample,
        job.problem.id(), r.correct() ? "correct" : "wrong", 100.0 * correct / done,
        tokens > 0 ? String.format("%.1f tok/s", tokens * 1e9 / (System.nanoTime() - begun)) : "no new tokens");
  }
}
