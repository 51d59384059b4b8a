package dev.ptk.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class AnswersTest {
  @Test
  void takesTheLastBalancedBoxed() {
    assertEquals("5", Answers.lastBoxed("so \\boxed{4} no wait \\boxed{5}."));
    assertEquals("\\frac{1}{2}", Answers.lastBoxed("x = \\boxed{\\frac{1}{2}}</summary>"));
  }

  @Test
  void skipsAnUnclosedBoxedForAnEarlierOne() {
    // A summary cut by its cap: the path's answer before it is taken.
    assertEquals("7", Answers.lastBoxed("<think1>... \\boxed{7}<summary>The final answer is \\boxed{\\frac{7"));
  }

  @Test
  void noneWithoutBoxed() {
    assertNull(Answers.lastBoxed("The final answer is 5"));
    assertNull(Answers.lastBoxed("\\boxed{"));
  }
}
