package dev.ptk.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class BoxedTest {
  @Test
  void takesTheLastBalancedBoxed() {
    assertEquals("5", Boxed.last("so \\boxed{4} no wait \\boxed{5}."));
    assertEquals("\\frac{1}{2}", Boxed.last("x = \\boxed{\\frac{1}{2}}</summary>"));
  }

  @Test
  void skipsAnUnclosedBoxedForAnEarlierOne() {
    // A summary cut by its cap: the path's answer before it is taken.
    assertEquals("7", Boxed.last("<think1>... \\boxed{7}<summary>The final answer is \\boxed{\\frac{7"));
  }

  @Test
  void noneWithoutBoxed() {
    assertNull(Boxed.last("The final answer is 5"));
    assertNull(Boxed.last("\\boxed{"));
  }
}
