package dev.ptk.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.model.Tokenizer;
import org.junit.jupiter.api.Test;

/** Streamed text, token by token, with the tiny checkpoint's byte-level tokenizer. */
class IncrementalTextTest {
  @Test
  void piecesAddUpToTheDecodedTextAndNeverSplitACharacter() {
    try (Tokenizer t = Tokenizer.load(ServerTest.TINY)) {
      String text = "Über 7×6 = 42 — 世界 🎉 ok</summary> <think1>done";
      int[] ids = t.encode(text, false);
      assertTrue(ids.length > text.codePointCount(0, text.length()) / 2, "several tokens: " + ids.length);
      IncrementalText stream = new IncrementalText(t::decodeText);
      StringBuilder got = new StringBuilder();
      int heldBack = 0;
      for (int id : ids) {
        String piece = stream.add(id);
        if (piece.isEmpty()) heldBack++;
        assertFalse(piece.contains("\uFFFD"), "a piece holds whole characters only: '" + piece + "'");
        got.append(piece);
      }
      got.append(stream.flush());
      assertTrue(heldBack > 0, "some tokens end inside a character and wait for the next");
      assertEquals(t.decodeText(ids), got.toString());
      assertFalse(got.toString().contains("<think1>"), "special tokens are not text");
    }
  }
}
