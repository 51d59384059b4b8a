package dev.ptk.engine;

/** Final-answer extraction: the content of the last balanced {@code \boxed{...}}. */
public final class Answers {
  private static final String BOXED = "\\boxed{";

  private Answers() {}

  /** The content of the last {@code \boxed{} whose braces balance, or null. */
  public static String lastBoxed(String text) {
    for (int at = text.lastIndexOf(BOXED); at >= 0; at = text.lastIndexOf(BOXED, at - 1)) {
      int start = at + BOXED.length();
      int depth = 1;
      for (int i = start; i < text.length(); i++) {
        char c = text.charAt(i);
        if (c == '{') depth++;
        if (c == '}' && --depth == 0) return text.substring(start, i);
      }
    }
    return null;
  }
}
