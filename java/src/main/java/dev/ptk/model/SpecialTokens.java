package dev.ptk.model;

/**
 * The control tokens of a ParaThinker tokenizer, looked up by their text (never by a fixed id: the
 * released ids are 151643.. for the DeepSeek-distill tokens and 151665..151683 for ParaThinker's,
 * other tokenizers differ). "｜" is U+FF5C, "▁" is U+2581.
 *
 * @param thinkStart ids of {@code <think1>}..{@code <think8>} (index 0 is path 1)
 * @param thinkEnd ids of {@code </think1>}..{@code </think8>}
 */
public record SpecialTokens(
    int bos, int eos, int user, int assistant, int think, int endThink,
    int[] thinkStart, int[] thinkEnd, int summary, int endSummary, int pad) {

  public static final String BOS = "<\uff5cbegin\u2581of\u2581sentence\uff5c>";
  public static final String EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>";
  public static final String USER = "<\uff5cUser\uff5c>";
  public static final String ASSISTANT = "<\uff5cAssistant\uff5c>";
  public static final String THINK = "<think>";
  public static final String END_THINK = "</think>";
  public static final String SUMMARY = "<summary>";
  public static final String END_SUMMARY = "</summary>";
  public static final String PAD = "<vllm_pad>";
  /** Paths a ParaThinker tokenizer has start/end tokens for. */
  public static final int MAX_PATHS = 8;

  static SpecialTokens lookUp(Tokenizer t) {
    int[] start = new int[MAX_PATHS];
    int[] end = new int[MAX_PATHS];
    for (int i = 0; i < MAX_PATHS; i++) {
      start[i] = t.id("<think" + (i + 1) + ">");
      end[i] = t.id("</think" + (i + 1) + ">");
    }
    return new SpecialTokens(t.id(BOS), t.id(EOS), t.id(USER), t.id(ASSISTANT), t.id(THINK), t.id(END_THINK),
        start, end, t.id(SUMMARY), t.id(END_SUMMARY), t.id(PAD));
  }

  /** {@code <think_i>} for path i = 1..8. */
  public int thinkStart(int path) {
    return thinkStart[path - 1];
  }

  /** {@code </think_i>} for path i = 1..8. */
  public int thinkEnd(int path) {
    return thinkEnd[path - 1];
  }
}
