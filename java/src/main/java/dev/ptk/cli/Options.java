package dev.ptk.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parsed {@code --name value} and {@code --flag} options plus positional arguments. A command
 * reads what it knows, then calls {@link #finish()} so that unknown options are reported.
 */
final class Options {
  private static final Set<String> FLAGS = Set.of("--verbose", "--chat", "--quiet");
  private final Map<String, String> values = new HashMap<>();
  private final Set<String> flags = new HashSet<>();
  private final List<String> positional = new ArrayList<>();
  private final Set<String> read = new HashSet<>();

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (FLAGS.contains(a)) {
        o.flags.add(a);
      } else if (a.startsWith("--")) {
        int eq = a.indexOf('=');
        if (eq > 0) {
          o.values.put(a.substring(0, eq), a.substring(eq + 1));
        } else {
          if (i + 1 >= args.length) throw new UsageException("option " + a + " needs a value");
          o.values.put(a, args[++i]);
        }
      } else {
        o.positional.add(a);
      }
    }
    o.read.add("--verbose");
    return o;
  }

  boolean flag(String name) {
    read.add(name);
    return flags.contains(name);
  }

  String string(String name, String fallback) {
    read.add(name);
    return values.getOrDefault(name, fallback);
  }

  String required(String name) {
    String v = string(name, null);
    if (v == null) throw new UsageException("missing required option " + name);
    return v;
  }

  int integer(String name, int fallback, int min, int max) {
    String v = string(name, null);
    if (v == null) return fallback;
    int x;
    try {
      x = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new UsageException(name + " must be an integer, got '" + v + "'");
    }
    if (x < min || x > max) throw new UsageException(name + " must be in [" + min + ", " + max + "], got " + x);
    return x;
  }

  double real(String name, double fallback, double min, double max) {
    String v = string(name, null);
    if (v == null) return fallback;
    double x;
    try {
      x = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new UsageException(name + " must be a number, got '" + v + "'");
    }
    if (!(x >= min && x <= max)) throw new UsageException(name + " must be in [" + min + ", " + max + "], got " + v);
    return x;
  }

  /** An existing directory or file named by a required option. */
  Path existingPath(String name) {
    Path p = Path.of(required(name));
    if (!Files.exists(p)) throw new UsageException(name + ": " + p + " does not exist");
    return p;
  }

  List<String> positional() {
    return positional;
  }

  /** Reports the first option the command did not read. */
  void finish() {
    for (String k : values.keySet()) {
      if (!read.contains(k)) throw new UsageException("unknown option " + k);
    }
    for (String f : flags) {
      if (!read.contains(f)) throw new UsageException("unknown option " + f);
    }
  }
}
