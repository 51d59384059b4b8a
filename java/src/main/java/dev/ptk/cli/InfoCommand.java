package dev.ptk.cli;

import dev.ptk.nativelib.CudaEnvironment;
import java.io.PrintStream;

/** {@code ptk info}: the Java runtime, the native library and the CUDA devices it sees. */
final class InfoCommand implements Command {
  @Override
  public String name() {
    return "info";
  }

  @Override
  public String summary() {
    return "report the Java runtime, libptk and the CUDA devices";
  }

  @Override
  public int run(Options options, PrintStream out, PrintStream err) {
    options.finish();
    if (!options.positional().isEmpty()) throw new UsageException("info takes no arguments");
    Runtime rt = Runtime.getRuntime();
    out.printf("Java %s (%s), %d cores, %.1f GiB heap max%n", System.getProperty("java.version"),
        System.getProperty("java.vm.name"), rt.availableProcessors(), rt.maxMemory() / 1073741824.0);
    out.print(CudaEnvironment.query().describe());
    return 0;
  }
}
