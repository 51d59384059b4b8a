package dev.ptk.model;

import java.util.Arrays;

/**
 * The released engine's prompt and summary template (SEMANTICS.md §4 and §9.4), token for
 * token. The instruction text is the engine's constant, including the two runs of five spaces left
 * by Python line continuations and the literal {@code <summary> </summary>}, which the tokenizer
 * maps to the special tokens.
 */
public final class ParaThinkerPrompt {
  /** KV page size the released engine aligns the prompt to. */
  public static final int PAGE_SIZE = 16;

  public static final String SUMMARY_TEMPLATE =
      "<summary>By analyzing multiple reasoning processes above, I concluded that: The final answer is";

  private ParaThinkerPrompt() {}

  /** The prompt text for one question. */
  public static String text(String question) {
    return SpecialTokens.USER + question
        + " You FIRST think about the reasoning process as an internal monologue     and then summarize the reasoning"
        + " process to get the final answer. The summary process MUST BE enclosed     within <summary> </summary> tags."
        + " The final answer MUST BE put in \\boxed{}." + SpecialTokens.ASSISTANT + SpecialTokens.THINK;
  }

  /**
   * The engine's prompt ids: {@code ids = encode(text, BOS)}, padded with {@code <vllm_pad>} so that
   * {@code len(ids) + 1} is a multiple of {@code pageSize}, then preceded by a second BOS. The
   * released engine gets the second BOS by decoding the padded ids to text and letting vLLM encode
   * it again with its own BOS; that round trip returns the same ids, so they are built directly.
   * The length is a multiple of {@code pageSize}.
   */
  public static int[] engineIds(Tokenizer tokenizer, String question, int pageSize) {
    if (pageSize <= 0) throw new IllegalArgumentException("page size must be positive, got " + pageSize);
    int[] ids = tokenizer.encode(text(question), true);
    int padded = Math.floorDiv(ids.length + 1 + pageSize - 1, pageSize) * pageSize;
    int[] out = new int[padded];
    out[0] = tokenizer.special().bos();
    System.arraycopy(ids, 0, out, 1, ids.length);
    Arrays.fill(out, 1 + ids.length, padded, tokenizer.special().pad());
    return out;
  }

  /** The forced summary tokens, {@code <summary>} first, encoded without BOS. */
  public static int[] summaryIds(Tokenizer tokenizer) {
    return tokenizer.encode(SUMMARY_TEMPLATE, false);
  }
}
