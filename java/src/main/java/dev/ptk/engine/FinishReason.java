package dev.ptk.engine;

/** Why a path or the summary stopped. */
public enum FinishReason {
  /** A stop token, rewritten to the path's end token (then padded) or to {@code </summary>}. */
  STOP,
  /** The token limit (max tokens per path, the summary cap) or the model's context length. */
  LENGTH,
  /** Cut when thinking ended because other paths finished (first-finish). */
  CUT
}
