package dev.ptk.backend.cuda;

import dev.ptk.backend.AttentionGroup;
import dev.ptk.backend.ForwardBatch;
import java.util.List;

/**
 * Whether a batch is a decode step with a captured graph. Every batch runs through one ragged
 * attention plan (ptk_attention_plan_ragged), whatever its groups see: prefill chunks, phase-1
 * rows and summary rows of any requests together. A batch with one token per group (phase-1 rows
 * of P paths, summary rows, independent sequences, or a mix of them) of at most
 * {@link #MAX_DECODE_TOKENS} tokens is a decode step: it replays a CUDA graph captured once per
 * (tokens, logit rows), whose attention run reads each step's plan from device memory. Its graph
 * runs the head once over every logit row (distinct), through ptk_gemv or ptk_gemm as
 * {@link MatmulChoice} decides.
 *
 * @param tokens the batch's token count
 * @param logitRows how many logit rows are wanted
 * @param everyRowInOrder the logit rows are the tokens 0, 1, ... in order: the head's gemv may then
 *     read and norm the residual rows as they stand, with no gather of the rows first
 */
public record StepShape(int tokens, int logitRows, boolean decode, boolean everyRowInOrder) {
  /** The most tokens of a decode step: ptk_gemv's row limit (P <= 16 paths). */
  public static final int MAX_DECODE_TOKENS = DeviceMatmul.MAX_GEMV_ROWS;

  /** Classifies a validated batch; throws naming the group when the groups are not in token order. */
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
    int[] rows = batch.logitRows();
    boolean inOrder = rows.length == n;
    for (int i = 0; i < rows.length && inOrder; i++) inOrder = rows[i] == i;
    return new StepShape(n, rows.length, n == groups.size() && n <= MAX_DECODE_TOKENS, inOrder);
  }
}
