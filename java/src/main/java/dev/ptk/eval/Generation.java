package dev.ptk.eval;

import java.util.List;

/** What a {@link Solver} returns for one problem: the text and token counts of paths and summary. */
public record Generation(String summary, List<String> paths, List<Integer> pathTokens, int summaryTokens) {
  public Generation {
    paths = List.copyOf(paths);
    pathTokens = List.copyOf(pathTokens);
    if (paths.size() != pathTokens.size()) {
      throw new IllegalArgumentException(paths.size() + " path texts but " + pathTokens.size() + " path token counts");
    }
  }

  /** Every generated token: all paths plus the summary. */
  public int totalTokens() {
    int sum = summaryTokens;
    for (int t : pathTokens) sum += t;
    return sum;
  }
}
