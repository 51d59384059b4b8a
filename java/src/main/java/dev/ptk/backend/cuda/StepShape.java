package dev.ptk.backend.cuda;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.ForwardBatch;
import dev.ptk.backend.KvSegment;
import java.util.List;

/**
 * Which attention plan a batch runs through, and whether it is a decode step with a captured graph.
 *
 * <p>{@link Kind#PREFILL}: every group sees the same shared prefix (none, or one segment such as the
 * prompt) and its own segment causally — prompt prefill and phase 1. {@link Kind#SUMMARY}: one group
 * that sees several segments (the prompt and every path) and its own causally. A PREFILL step with
 * one token per group (phase 1 at P paths over their prompt, or independent sequences over their
 * own pages) and a SUMMARY step with one token (phase 2) are decode steps: they replay a CUDA graph
 * captured once per (kind, tokens, logit rows). Its graph runs the head once over every logit row
 * (at most {@link #MAX_DECODE_TOKENS}, distinct), through ptk_gemv or ptk_gemm as {@link MatmulChoice} decides.
 *
 * @param tokens the batch's token count
 * @param logitRows how many logit rows are wanted
 */
public record StepShape(Kind kind, int tokens, int logitRows, boolean decode) {
  public enum Kind { PREFILL, SUMMARY }

  /** The most tokens of a decode step: ptk_gemv's row limit (P <= 16 paths). */
  public static final int MAX_DECODE_TOKENS = DeviceMatmul.MAX_GEMV_ROWS;

  /** Classifies a validated batch; throws naming the groups when no plan kind covers it. */
  public static StepShape of(ForwardBatch batch) {
    List<AttentionGroup> groups = batch.groups();
    int next = 0;
    for (int i = 0; i < groups.size(); i++) {
      if (groups.get(i).firstToken() != next) {
        throw new IllegalArgumentException("groups[" + i + "] starts at token " + groups.get(i).firstToken()
            + "; the CUDA backend needs groups in token order without gaps (expected " + next + ")");
      }
      next += groups.get(i).numTokens();
    }
    int n = batch.size();
    int rows = batch.logitRows().length;
    List<KvSegment> prefix = groups.get(0).visible();
    boolean shared = prefix.size() <= 1 && groups.stream().allMatch(g -> sameSegments(g.visible(), prefix));
    if (shared) {
      boolean decode = n == groups.size() && n <= MAX_DECODE_TOKENS;
      return new StepShape(Kind.PREFILL, n, rows, decode);
    }
    if (groups.size() == 1) return new StepShape(Kind.SUMMARY, n, rows, n == 1);
    throw new IllegalArgumentException("groups: " + groups.size() + " groups with different visible segments; the CUDA "
        + "backend runs one shared prefix for all groups, or one group over several segments");
  }

  private static boolean sameSegments(List<KvSegment> a, List<KvSegment> b) {
    return a.equals(b);  // element-wise KvSegment.equals: same pages, same length
  }
}
