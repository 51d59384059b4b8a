package dev.ptk.answer;

/**
 * Finds the last boxed answer in model output: {@code \boxed{...}} or {@code \fbox{...}} with
 * balanced braces (nested braces allowed), or {@code \boxed 5}, where the answer is the token up
 * to the next space, {@code $} or end. An occurrence whose braces never close (output cut off)
 * does not count, so an earlier complete box wins over a truncated last one.
 */
public final class Boxed {
  private static final String[] MACROS = {"\\boxed", "\\fbox"};

  private Boxed() {}

  /** The content of the last complete box in {@code text}, trimmed; null when there is none. */
  public static String last(String text) {
    if (text == null) return null;
    String best = null;
    int bestAt = -1;
    for (String macro : MACROS) {
      for (int at = text.indexOf(macro); at >= 0; at = text.indexOf(macro, at + 1)) {
        String content = contentAfter(text, at + macro.length());
        if (content != null && at > bestAt) {
          best = content;
          bestAt = at;
        }
      }
    }
    return best == null ? null : best.trim();
  }

  /** The box content starting right after the macro name at {@code i}, or null. */
  private static String contentAfter(String text, int i) {
    if (i < text.length() && Character.isLetter(text.charAt(i))) return null; // e.g. \boxedsomething
    if (i < text.length() && text.charAt(i) == '{') {
      int depth = 0;
      for (int j = i; j < text.length(); j++) {
        char c = text.charAt(j);
        if (c == '\\' && j + 1 < text.length()) {
          j++; // an escaped brace \{ or \} does not open or close the box
        } else if (c == '{') {
          depth++;
        } else if (c == '}' && --depth == 0) {
          return text.substring(i + 1, j);
        }
      }
      return null;
    }
    int start = i;
    while (start < text.length() && text.charAt(start) == ' ') start++;
    if (start == i) return null;
    int end = start;
    while (end < text.length() && !Character.isWhitespace(text.charAt(end)) && text.charAt(end) != '$') end++;
    return end > start ? text.substring(start, end) : null;
  }
}
