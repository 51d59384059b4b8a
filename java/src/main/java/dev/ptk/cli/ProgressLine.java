package dev.ptk.cli;

import dev.ptk.engine.ProgressListener;
import java.io.PrintStream;
import java.util.Arrays;

/** One stderr line rewritten in place (at most ten times a second): phase, step, tokens per path, tokens/s. */
final class ProgressLine implements ProgressListener {
  private static final long INTERVAL_NANOS = 100_000_000L;
  private final PrintStream err;
  private final boolean show;
  private long last;
  private int width;

  ProgressLine(PrintStream err, boolean show) {
    this.err = err;
    this.show = show;
  }

  @Override
  public void onStep(Progress p) {
    long now = System.nanoTime();
    if (!show || now - last < INTERVAL_NANOS) return;
    last = now;
    String text = p.phase() == Phase.THINKING
        ? String.format("thinking step %d, tokens per path %s, %.1f tok/s", p.step(), compact(p.pathTokens()), p.tokensPerSecond())
        : String.format("summary step %d, %d tokens, %.1f tok/s", p.step(), p.summaryTokens(), p.tokensPerSecond());
    err.print("\r" + text + " ".repeat(Math.max(0, width - text.length())));
    err.flush();
    width = text.length();
  }

  /** "32 x3" when every path has the same length, else the list. */
  private static String compact(int[] tokens) {
    boolean same = Arrays.stream(tokens).allMatch(t -> t == tokens[0]);
    return same ? tokens[0] + " x" + tokens.length : Arrays.toString(tokens);
  }

  @Override
  public void onWarning(String message) {
    end();
    err.println("ptk: warning: " + message);
  }

  /** Moves past the progress line so the next output starts on a fresh line. */
  void end() {
    if (width > 0) err.println();
    width = 0;
  }
}
