package dev.ptk.engine;

/**
 * One reasoning path: its tokens from {@code <think_i>} on (with its end token and pads when it
 * finished by a stop token), their text, and how it ended.
 */
public record PathOutput(int index, int[] tokens, String text, FinishReason finish) {
  /** Finished by itself (stop token or length) rather than cut when thinking ended. */
  public boolean finished() {
    return finish != FinishReason.CUT;
  }
}
