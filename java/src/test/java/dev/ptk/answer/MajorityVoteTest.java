package dev.ptk.answer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class MajorityVoteTest {
  @Test
  void largestClassWins() {
    assertEquals("3", MajorityVote.winner(List.of("3", "5", "3", "7")));
  }

  @Test
  void equivalentAnswersVoteTogether() {
    // 1/2, 0.5 and \frac{1}{2} are one class of three against two 2s; the class's first answer is returned
    assertEquals("1/2", MajorityVote.winner(List.of("2", "1/2", "0.5", "2", "\\frac{1}{2}")));
  }

  @Test
  void tieGoesToTheClassThatAppearsFirst() {
    assertEquals("9", MajorityVote.winner(List.of("9", "4", "4", "9")));
    assertEquals("4", MajorityVote.winner(List.of("4", "9")));
  }

  @Test
  void missingAnswersDoNotVote() {
    assertEquals("8", MajorityVote.winner(Arrays.asList(null, "", null, "8")));
    assertNull(MajorityVote.winner(Arrays.asList(null, " ")));
    assertNull(MajorityVote.winner(List.of()));
  }
}
