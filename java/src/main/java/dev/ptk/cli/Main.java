package dev.ptk.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code ptk COMMAND [options]}: the command-line tool. Usage errors print one line and exit 2;
 * {@code --verbose} adds stack traces.
 */
public final class Main {
  private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

  static {
    register(new InfoCommand());
    register(new GenerateCommand());
    register(new ScoreCommand());
    register(new EvalCommand());
    register(new TokenizeCommand());
    register(new InitRandomCommand());
    register(new BenchDecodeCommand());
    register(new BenchRequestCommand());
    register(new ServeCommand());
  }

  private Main() {}

  private static void register(Command c) {
    COMMANDS.put(c.name(), c);
  }

  public static void main(String[] args) {
    // The tokenizer library logs through SLF4J; without a binding it warns on every start.
    System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
    System.setProperty("slf4j.internal.verbosity", "ERROR");
    System.exit(run(args, System.out, System.err));
  }

  /** Runs one command and returns its exit code (0 ok, 1 failure, 2 usage). */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    boolean verbose = Arrays.asList(args).contains("--verbose");
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("help")) {
      out.print(usage());
      return args.length == 0 ? 2 : 0;
    }
    Command command = COMMANDS.get(args[0]);
    if (command == null) {
      err.println("ptk: unknown command '" + args[0] + "' (commands: " + String.join(", ", COMMANDS.keySet()) + ")");
      return 2;
    }
    if (Arrays.asList(args).contains("--help")) {
      out.print(command.usage());
      return 0;
    }
    try {
      Options options = Options.parse(Arrays.copyOfRange(args, 1, args.length));
      return command.run(options, out, err);
    } catch (UsageException e) {
      err.println("ptk " + command.name() + ": " + e.getMessage());
      if (verbose) e.printStackTrace(err);
      return 2;
    } catch (RuntimeException e) {
      err.println("ptk " + command.name() + ": " + e.getMessage());
      if (verbose) e.printStackTrace(err);
      return 1;
    }
  }

  static String usage() {
    StringBuilder sb = new StringBuilder("usage: ptk COMMAND [options]\n\ncommands:\n");
    int width = COMMANDS.keySet().stream().mapToInt(String::length).max().orElse(0);
    for (Command c : COMMANDS.values()) {
      sb.append(String.format("  %-" + width + "s  %s%n", c.name(), c.summary()));
    }
    sb.append("\nevery command accepts --verbose (stack traces on errors)\n");
    return sb.toString();
  }
}
