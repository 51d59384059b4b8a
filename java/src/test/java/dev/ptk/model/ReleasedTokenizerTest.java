package dev.ptk.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ParaThinker-1.5B's tokenizer (real Qwen BPE + released added tokens): facts of SEMANTICS.md §3. */
class ReleasedTokenizerTest {
  @TempDir static Path tmp;
  static Tokenizer tok;

  @BeforeAll
  static void load() throws IOException {
    tok = Tokenizer.load(ReleasedTokenizer.write(tmp));
  }

  @AfterAll
  static void close() {
    if (tok != null) tok.close();
  }

  @Test
  void chatPromptOfTheSpec() {
    // SEMANTICS.md §3.1: "Who are you?" through the chat template
    int[] want = {151646, 151644, 15191, 525, 498, 30, 151645, 151648, 198};
    String text = SpecialTokens.USER + "Who are you?" + SpecialTokens.ASSISTANT + "<think>\n";
    assertArrayEquals(want, tok.encode(text, true));
    assertArrayEquals(want, tok.encode(SpecialTokens.BOS + text, false));
  }

  @Test
  void specialIdsAreTheReleasedOnes() {
    SpecialTokens s = tok.special();
    assertEquals(151646, s.bos());
    assertEquals(151643, s.eos());
    assertEquals(151644, s.user());
    assertEquals(151645, s.assistant());
    assertEquals(151648, s.think());
    assertEquals(151649, s.endThink());
    assertEquals(151665, s.thinkStart(1));
    assertEquals(151669, s.thinkStart(3));
    assertEquals(151680, s.thinkEnd(8));
    assertEquals(151681, s.summary());
    assertEquals(151682, s.endSummary());
    assertEquals(151683, s.pad());
    assertEquals(151669, tok.id("<think3>"));
    assertEquals(151682, tok.id("</summary>"));
  }

  @Test
  void digitsAreSplitOneByOne() {
    assertEquals(5, tok.encode("12345", false).length);
  }

  @Test
  void enginePrompt() {
    SpecialTokens s = tok.special();
    int[] p = ParaThinkerPrompt.engineIds(tok, "What is 12 + 345?", ParaThinkerPrompt.PAGE_SIZE);
    assertEquals(0, p.length % 16, "Lp % 16");
    assertArrayEquals(new int[] {s.bos(), s.bos(), s.user()}, Arrays.copyOf(p, 3), "double BOS, then <｜User｜>");
    // the instruction's literal "<summary> </summary>" is one <summary> and one </summary> token
    int at = -1;
    for (int i = 0; i < p.length; i++) {
      if (p[i] == s.summary()) {
        assertEquals(-1, at, "one <summary> in the prompt");
        at = i;
      }
    }
    assertEquals(s.endSummary(), p[at + 2]);
    assertEquals(1, tok.encode(" ", false).length);
    assertEquals(tok.encode(" ", false)[0], p[at + 1]);
    // then <｜Assistant｜><think> and fewer than 16 pads
    int end = p.length;
    while (p[end - 1] == s.pad()) end--;
    assertTrue(p.length - end < 16, "pads " + (p.length - end));
    assertArrayEquals(new int[] {s.assistant(), s.think()}, Arrays.copyOfRange(p, end - 2, end));
    // the released engine's round trip: decode(encode(text) + pads), encode again with BOS
    int[] once = Arrays.copyOfRange(p, 1, p.length);
    assertArrayEquals(p, tok.encode(tok.decode(once), true));
  }

  @Test
  void summaryTemplate() {
    int[] ids = ParaThinkerPrompt.summaryIds(tok);
    assertEquals(151681, ids[0]);
    assertEquals(ParaThinkerPrompt.SUMMARY_TEMPLATE, tok.decode(ids));
    assertArrayEquals(tok.encode("By analyzing multiple reasoning processes above, I concluded that: The final answer is", false),
        Arrays.copyOfRange(ids, 1, ids.length));
  }
}
