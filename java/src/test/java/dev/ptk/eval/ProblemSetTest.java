package dev.ptk.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProblemSetTest {
  @TempDir Path dir;

  @Test
  void badLinesAreReportedWithTheirLineNumberAndGoodLinesKept() throws Exception {
    Path file = dir.resolve("set.jsonl");
    Files.writeString(file, String.join("\n",
        "{\"id\": \"a\", \"problem\": \"1+1?\", \"answer\": \"2\"}",        // 1 good
        "{\"problem\": \"2+2?\", \"answer\": 4}",                         // 2 good: numeric answer, id = line number
        "{\"problem\": \"broken\", \"answer\": ",                         // 3 malformed JSON
        "",                                                              // 4 blank: ignored silently
        "{\"id\": 7, \"answer\": \"3\"}",                                 // 5 missing problem
        "{\"id\": \"b\", \"problem\": \"3+3?\"}",                         // 6 missing answer
        "[1, 2]",                                                        // 7 not an object
        "{\"id\": \"a\", \"problem\": \"again\", \"answer\": \"1\"}",       // 8 duplicate id
        "{\"problem\": \"x\", \"answer\": \"1\"} trailing",                // 9 text after the object
        "{\"id\": 10, \"problem\": \"5+5?\", \"answer\": \"10\"}",          // 10 good: numeric id
        "{\"problem\": \"\", \"answer\": \"1\"}",                           // 11 empty problem
        "{\"problem\": {\"x\": 1}, \"answer\": \"1\"}",                     // 12 problem not a string
        "{problem: \"unquoted\", answer: \"1\"}"),                         // 13 not strict JSON
        StandardCharsets.UTF_8);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<Problem> problems = ProblemSet.read(file, new PrintStream(err, true, StandardCharsets.UTF_8));

    assertEquals(List.of(new Problem("a", "1+1?", "2"), new Problem("2", "2+2?", "4"), new Problem("10", "5+5?", "10")),
        problems);
    List<String> warnings = err.toString(StandardCharsets.UTF_8).lines().toList();
    int[] badLines = {3, 5, 6, 7, 8, 9, 11, 12, 13};
    assertEquals(badLines.length, warnings.size(), warnings::toString);
    for (int i = 0; i < badLines.length; i++) {
      assertTrue(warnings.get(i).startsWith(file + ":" + badLines[i] + ": skipped: "), warnings.get(i));
    }
    assertTrue(warnings.get(1).contains("missing field 'problem'"), warnings.get(1));
    assertTrue(warnings.get(2).contains("missing field 'answer'"), warnings.get(2));
    assertTrue(warnings.get(4).contains("duplicate id 'a' (first on line 1)"), warnings.get(4));
  }

  @Test
  void missingFileNamesTheFile() {
    Path missing = dir.resolve("nope.jsonl");
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ProblemSet.read(missing, System.err));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
  }
}
