package dev.ptk.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** How math benchmarks conventionally judge a model answer against a gold answer. */
class GraderTest {
  static Stream<Arguments> pairs() {
    return Stream.of(
        // fractions and decimals
        same("\\frac{1}{2}", "0.5"),
        same("\\dfrac{3}{4}", "3/4"),
        same("\\tfrac{3}{4}", "0.75"),
        same("\\frac12", "1/2"),
        same("\\frac12", "\\frac{1}{2}"),
        same("\\frac1{2}", "\\frac{1}{2}"),
        same("\\frac{1}{2}", "\\frac{2}{4}"),
        same("1/2", "2/4"),
        same("1/3", "0.3333333"),
        differ("0.333", "1/3"),
        differ("3.14", "3.14159"),
        same("-\\frac{1}{2}", "-0.5"),
        same("\\frac{-1}{2}", "-0.5"),
        same("-\\frac{1}{2}", "\\frac{-1}{2}"),
        differ("-\\frac{1}{2}", "0.5"),
        same("0.50", ".5"),
        same("\\frac{3}{2}", "1.5"),
        // integers, decimals, signs
        differ("2", "3"),
        differ("12", "1.2"),
        differ("100", "10"),
        differ("10000", "10001"),
        same("5.0", "5"),
        same("5.00", "5"),
        same("007", "7"),
        same("-0", "0"),
        same("0", "0.0"),
        differ("0", "0.00001"),
        same("\u22123", "-3"),
        differ("-3", "3"),
        same("5.", "5"),
        // percent, degrees, money, units
        same("10\\%", "10"),
        same("10%", "10"),
        same("10 percent", "10"),
        differ("10\\%", "11"),
        same("90^\\circ", "90"),
        same("90^{\\circ}", "90"),
        same("10^{\\circ}", "10\u00b0"),
        same("45 degrees", "45"),
        same("\\$5.00", "5"),
        same("\\$1.50", "1.5"),
        same("5\\text{ cm}", "5"),
        same("5 \\text{ inches}", "5"),
        same("5\\text{ cm}^2", "5"),
        same("12 square units", "12"),
        same("20\\mbox{ minutes}", "20"),
        // thousands separators
        same("1,000", "1000"),
        same("1{,}000", "1000"),
        same("1,000,000", "1000000"),
        same("1\\,000", "1000"),
        // multiple choice and text
        same("\\text{(A)}", "A"),
        same("\\textbf{(D)}", "(D)"),
        same("\\mbox{(C)}", "C"),
        same("E", "(E)"),
        differ("A", "B"),
        same("\\text{Monday}", "Monday"),
        // assignments and delimiters
        same("x=5", "5"),
        same("x = 5", "x=5"),
        same("y = -3", "-3"),
        same("\\(5\\)", "5"),
        same("$5$", "5"),
        same("\\boxed{2}", "2"),
        // tuples and intervals
        same("(1,2)", "(1, 2)"),
        differ("(1,2)", "(2,1)"),
        same("\\left( 1, 2 \\right)", "(1,2)"),
        same("(0.5, 1)", "(\\frac12, 1)"),
        same("[1, 2)", "[1,2)"),
        differ("[1,2)", "(1,2)"),
        differ("[1,2)", "[1,2]"),
        same("(-\\infty, 3]", "(-\\infty,3]"),
        same("\\left[ 0, 1 \\right]", "[0,1]"),
        differ("(1,2,3)", "(1,2)"),
        // radicals and expressions: no symbolic algebra
        differ("\\sqrt{2}", "1.414"),
        same("\\sqrt2", "\\sqrt{2}"),
        same("2\\sqrt{3}", "2 \\sqrt{3}"),
        differ("2\\sqrt{3}", "\\sqrt{12}"),
        same("\\frac{\\sqrt3}{2}", "\\dfrac{\\sqrt{3}}{2}"),
        same("x^2+1", "x^2 + 1"),
        differ("x^2+1", "1+x^2"),
        differ("\\pi", "3.14159"),
        // missing answers
        differ("", "5"));
  }

  private static Arguments same(String answer, String gold) {
    return Arguments.of(answer, gold, true);
  }

  private static Arguments differ(String answer, String gold) {
    return Arguments.of(answer, gold, false);
  }

  @ParameterizedTest(name = "[{index}] \"{0}\" vs \"{1}\" -> {2}")
  @MethodSource("pairs")
  void gradesLikeMathBenchmarks(String answer, String gold, boolean expected) {
    assertEquals(expected, Grader.equivalent(answer, gold), () -> "normalised: '" + Grader.normalize(answer) + "' vs '" + Grader.normalize(gold) + "'");
    assertEquals(expected, Grader.equivalent(gold, answer), "the grader must be symmetric");
  }

  @Test
  void tableHasAtLeastSixtyPairs() {
    assertTrue(pairs().count() >= 60, "the table must keep at least 60 answer pairs");
  }

  @Test
  void noAnswerIsNeverCorrect() {
    assertFalse(Grader.equivalent(null, "5"));
    assertFalse(Grader.equivalent("   ", ""));
  }
}
