package dev.ptk.answer;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides whether two final answers are the same, the way math benchmarks grade: both sides are
 * normalised ({@link #normalize}), then compared as numbers when both are numbers, element by
 * element when both are tuples, intervals or comma lists with the same brackets, and as strings
 * otherwise. There is no symbolic algebra: {@code 1+x^2} and {@code x^2+1} differ, and so do
 * {@code \sqrt{2}} and {@code 1.414}.
 *
 * <p>Numbers are integers, decimals, {@code a/b}, {@code \frac{a}{b}} and their negatives. Two
 * integers must be equal; otherwise the relative difference must be at most {@link #RTOL}.
 */
public final class Grader {
  /** Relative tolerance of numeric comparison; 0.333 against 1/3 fails it. */
  public static final double RTOL = 1e-4;

  private static final Pattern TEXT_MACRO =
      Pattern.compile("\\\\(?:text|textbf|textit|textrm|mathrm|mathbf|mbox)\\s*\\{([^{}]*)\\}");
  private static final Pattern UNIT = Pattern.compile(
      "\\s+(?:square|sq\\.?|cubic|units?|degrees?|percent|radians?|dollars?|cents?"
          + "|mm|cm|km|m|meters?|metres?|centimeters?|kilometers?|inch(?:es)?|in|feet|foot|ft|yards?|yd|miles?"
          + "|mph|kph|seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?|years?"
          + "|grams?|g|kg|kilograms?|pounds?|lbs?|ounces?|oz|liters?|litres?|ml|gallons?|cups?|people|students)"
          + "(?:\\s*\\^\\{?[23]\\}?)?\\s*$");
  private static final Pattern ASSIGNMENT = Pattern.compile("^\\s*[A-Za-z](?:_\\{?\\w+\\}?|\\w)?\\s*=([^=]+)$");
  private static final Pattern THOUSANDS = Pattern.compile("^-?\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?$");
  private static final Pattern FRAC_SHORT = Pattern.compile("\\\\frac(\\d|\\{[^{}]*\\})(\\d|\\{[^{}]*\\})");
  private static final Pattern SQRT_SHORT = Pattern.compile("\\\\sqrt(\\d)");
  private static final Pattern CHOICE = Pattern.compile("^\\(([A-Za-z])\\)$");
  private static final Pattern NUMBER_TOKEN = Pattern.compile("(?<![A-Za-z0-9.])(\\d+(?:\\.\\d*)?|\\.\\d+)(?![0-9.])");
  private static final String NUM = "(-?(?:\\d+(?:\\.\\d*)?|\\.\\d+))";
  private static final Pattern DECIMAL = Pattern.compile("^" + NUM + "$");
  private static final Pattern SLASH = Pattern.compile("^" + NUM + "/" + NUM + "$");
  private static final Pattern FRAC = Pattern.compile("^(-?)\\\\frac\\{" + NUM + "\\}\\{" + NUM + "\\}$");

  private Grader() {}

  /** True when {@code answer} grades as {@code gold}; a missing or empty answer is never correct. */
  public static boolean equivalent(String answer, String gold) {
    if (answer == null || gold == null) return false;
    String a = normalize(answer);
    String b = normalize(gold);
    return !a.isEmpty() && sameNormalized(a, b);
  }

  /** The canonical form that {@link #equivalent} compares. */
  public static String normalize(String answer) {
    String s = answer.replace('\u2212', '-').replace("\u00b0", "^\\circ");
    String boxed = Boxed.last(s);
    if (boxed != null) s = boxed;
    s = stripDelimiters(s.trim());
    s = s.replaceAll("\\\\(?:left|right|displaystyle)(?![A-Za-z])", "")
        .replaceAll("\\\\[!,;:]|\\\\ ", " ")
        .replaceAll("\\\\[dt]frac", "\\\\frac")
        .replaceAll("\\^\\s*\\{?\\s*\\\\circ\\s*\\}?|\\\\circ", "")
        .replace("\\%", "").replace("%", "")
        .replace("\\$", "").replace("$", "");
    s = TEXT_MACRO.matcher(s).replaceAll(m -> Matcher.quoteReplacement(" " + m.group(1) + " "));
    for (String t = null; !s.equals(t); ) {
      t = s;
      String stripped = UNIT.matcher(s).replaceAll("");
      if (!stripped.isBlank()) s = stripped;
    }
    Matcher assignment = ASSIGNMENT.matcher(s);
    if (assignment.matches()) s = assignment.group(1);
    s = s.replaceAll("\\s+", "").replace("{,}", ",");
    if (THOUSANDS.matcher(s).matches()) s = s.replace(",", "");
    s = FRAC_SHORT.matcher(s).replaceAll(m -> Matcher.quoteReplacement("\\frac" + braced(m.group(1)) + braced(m.group(2))));
    s = SQRT_SHORT.matcher(s).replaceAll("\\\\sqrt{$1}");
    if (s.endsWith(".") && s.length() > 1) s = s.substring(0, s.length() - 1);
    Matcher choice = CHOICE.matcher(s);
    if (choice.matches()) s = choice.group(1);
    return NUMBER_TOKEN.matcher(s).replaceAll(m -> new BigDecimal(m.group(1)).stripTrailingZeros().toPlainString());
  }

  private static String stripDelimiters(String s) {
    String[][] pairs = {{"$$", "$$"}, {"$", "$"}, {"\\(", "\\)"}, {"\\[", "\\]"}};
    for (String[] p : pairs) {
      if (s.length() >= p[0].length() + p[1].length() && s.startsWith(p[0]) && s.endsWith(p[1])) {
        return s.substring(p[0].length(), s.length() - p[1].length()).trim();
      }
    }
    return s;
  }

  private static String braced(String arg) {
    return arg.startsWith("{") ? arg : "{" + arg + "}";
  }

  private static boolean sameNormalized(String a, String b) {
    if (a.equals(b)) return true;
    Numeric x = Numeric.parse(a);
    Numeric y = Numeric.parse(b);
    if (x != null && y != null) return x.sameAs(y);
    return sameElements(a, b);
  }

  /** Tuples, intervals and comma lists: same brackets, same length, equal elements in order. */
  private static boolean sameElements(String a, String b) {
    String open = "([{", close = ")]}";
    char a0 = a.isEmpty() ? ' ' : a.charAt(0), b0 = b.isEmpty() ? ' ' : b.charAt(0);
    boolean bracketedA = open.indexOf(a0) >= 0 && close.indexOf(a.charAt(a.length() - 1)) >= 0;
    boolean bracketedB = open.indexOf(b0) >= 0 && close.indexOf(b.charAt(b.length() - 1)) >= 0;
    if (bracketedA != bracketedB) return false;
    if (bracketedA) {
      if (a0 != b0 || a.charAt(a.length() - 1) != b.charAt(b.length() - 1)) return false;
      a = a.substring(1, a.length() - 1);
      b = b.substring(1, b.length() - 1);
    }
    List<String> xs = splitTopLevel(a), ys = splitTopLevel(b);
    if (xs.size() < 2 || xs.size() != ys.size()) return false;
    for (int i = 0; i < xs.size(); i++) {
      if (!sameNormalized(xs.get(i), ys.get(i))) return false;
    }
    return true;
  }

  private static List<String> splitTopLevel(String s) {
    List<String> parts = new ArrayList<>();
    int depth = 0, start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '(' || c == '[' || c == '{') depth++;
      else if (c == ')' || c == ']' || c == '}') depth--;
      else if (c == ',' && depth == 0) {
        parts.add(s.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(s.substring(start));
    return parts;
  }

  /** A normalised answer read as a number; {@code integer} when it was written as one. */
  private record Numeric(double value, BigDecimal exact, boolean integer) {
    static Numeric parse(String s) {
      Matcher m = DECIMAL.matcher(s);
      if (m.matches()) {
        BigDecimal d = new BigDecimal(m.group(1));
        return new Numeric(d.doubleValue(), d, d.stripTrailingZeros().scale() <= 0);
      }
      m = SLASH.matcher(s);
      if (m.matches()) return ratio(false, m.group(1), m.group(2));
      m = FRAC.matcher(s);
      if (m.matches()) return ratio(!m.group(1).isEmpty(), m.group(2), m.group(3));
      return null;
    }

    private static Numeric ratio(boolean negate, String num, String den) {
      double d = Double.parseDouble(den);
      if (d == 0) return null;
      double v = Double.parseDouble(num) / d;
      return new Numeric(negate ? -v : v, null, false);
    }

    boolean sameAs(Numeric o) {
      if (integer && o.integer) return exact.compareTo(o.exact) == 0;
      return Math.abs(value - o.value) <= RTOL * Math.max(Math.abs(value), Math.abs(o.value));
    }
  }
}
