package dev.ptk.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Runs the {@code ptk} command line in this JVM, as {@link Main#main} would, capturing its output. */
public final class Cli {
  /** A finished run: the exit code and what it printed. */
  public record Run(int code, String out, String err) {}

  private Cli() {}

  public static Run ptk(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /**
   * A usage error: exit code 2, nothing on stdout, and stderr ending in the one line
   * {@code ptk COMMAND: ...} that contains {@code message} (warnings about the input may come first).
   */
  public static void assertUsage(Run r, String message) {
    assertEquals(2, r.code(), r.err());
    assertEquals("", r.out());
    assertTrue(r.err().endsWith("\n"), "a whole line: " + r.err());
    List<String> lines = r.err().lines().toList();
    String last = lines.get(lines.size() - 1);
    assertTrue(last.startsWith("ptk ") && last.contains(message), r.err());
  }

  /** Runs {@code args} and asserts a usage error containing {@code message}. */
  public static void assertUsage(String message, String... args) {
    assertUsage(ptk(args), message);
  }
}
