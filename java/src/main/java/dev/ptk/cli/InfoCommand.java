package dev.ptk.cli;

import dev.ptk.nativelib.CudaEnvironment;
import dev.ptk.nativelib.Native;
import dev.ptk.nativelib.presets.LibraryFlavour;
import java.io.PrintStream;

/** {@code ptk info}: the Java runtime, the native library and the CUDA devices it sees. */
final class InfoCommand implements Command {
  private static final String USAGE = """
      usage: ptk info [--backend cuda|sim]
        --backend cuda|sim   which libptk to report: the CUDA build or the sim device's
                             (default: the one -Dptk.device names, cuda unless set)
      """;

  @Override
  public String name() {
    return "info";
  }

  @Override
  public String summary() {
    return "report the Java runtime, libptk and the CUDA devices";
  }

  @Override
  public String usage() {
    return USAGE;
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    String backend = options.string("--backend", null);
    options.finish();
    if (!options.positional().isEmpty()) throw new UsageException("info takes no arguments");
    if (backend == null) {
      Native.load();
    } else {
      switch (backend) {
        case "cuda" -> Native.load(LibraryFlavour.CUDA);
        case "sim" -> Native.load(LibraryFlavour.SIM);
        default -> throw new UsageException("--backend must be cuda or sim, got '" + backend + "'");
      }
    }
    Runtime rt = Runtime.getRuntime();
    out.printf("Java %s (%s), %d cores, %.1f GiB heap max%n", System.getProperty("java.version"),
        System.getProperty("java.vm.name"), rt.availableProcessors(), rt.maxMemory() / 1073741824.0);
    out.print(CudaEnvironment.query().describe());
    return 0;
  }
}
