package dev.ptk.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ptk.answer.AnswerExtractor.Extraction;
import dev.ptk.answer.AnswerExtractor.Source;
import java.util.List;
import org.junit.jupiter.api.Test;

class AnswerExtractorTest {
  @Test
  void lastBoxKeepsNestedBraces() {
    assertEquals("\\frac{1}{\\sqrt{2}}", Boxed.last("so x = \\boxed{\\frac{1}{\\sqrt{2}}}."));
  }

  @Test
  void lastOfSeveralBoxesWins() {
    assertEquals("7", Boxed.last("first \\boxed{3}, then corrected: \\boxed{7}"));
    assertEquals("7", Boxed.last("\\fbox{3} and finally \\boxed{7}"));
    assertEquals("3", Boxed.last("\\boxed{7} but the answer is \\fbox{3}"));
  }

  @Test
  void boxedFollowedByOneToken() {
    assertEquals("5", Boxed.last("the answer is $\\boxed 5$"));
    assertEquals("42", Boxed.last("\\boxed 42 is it"));
  }

  @Test
  void escapedBracesStayInside() {
    assertEquals("\\{1,2\\}", Boxed.last("\\boxed{\\{1,2\\}}"));
  }

  @Test
  void truncatedLastBoxFallsBackToTheEarlierOne() {
    assertEquals("12", Boxed.last("\\boxed{12} wait, maybe \\boxed{\\frac{13}{"));
  }

  @Test
  void noBox() {
    assertNull(Boxed.last("the answer is 12"));
    assertNull(Boxed.last("\\boxedx{3}"));
    assertNull(Boxed.last(null));
  }

  @Test
  void summaryAnswerComesFirst() {
    Extraction e = AnswerExtractor.extract("The final answer is \\boxed{6}.</summary>", List.of("\\boxed{5}", "\\boxed{5}"));
    assertEquals(new Extraction("6", Source.SUMMARY), e);
  }

  @Test
  void withoutSummaryBoxThePathsVote() {
    List<String> paths = List.of("... \\boxed{2}", "... \\boxed{\\frac{1}{2}} then \\boxed{0.5}", "no box", "\\boxed{1/2}");
    assertEquals(new Extraction("0.5", Source.PATHS), AnswerExtractor.extract("The final answer is", paths));
  }

  @Test
  void aPathTieGoesToTheLowestPathIndex() {
    List<String> paths = List.of("\\boxed{4}", "\\boxed{9}", "\\boxed{9.0}", "\\boxed{4}");
    assertEquals(new Extraction("4", Source.PATHS), AnswerExtractor.extract("", paths));
  }

  @Test
  void nothingBoxedAnywhere() {
    assertEquals(new Extraction(null, Source.NONE), AnswerExtractor.extract("summary", List.of("a", "b")));
  }
}
