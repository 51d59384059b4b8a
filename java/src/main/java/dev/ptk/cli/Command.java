package dev.ptk.cli;

import java.io.PrintStream;

/** One subcommand of {@code ptk}. */
interface Command {
  String name();

  String summary();

  /** What {@code ptk NAME --help} prints. */
  default String usage() {
    return "ptk " + name() + ": " + summary() + "\n";
  }

  /** Returns the exit code; throws {@link UsageException} for bad flags or inputs. */
  int run(Options options, PrintStream out, PrintStream err);
}
