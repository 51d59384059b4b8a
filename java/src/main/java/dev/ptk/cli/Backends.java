package dev.ptk.cli;

import dev.ptk.backend.Backend;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.engine.GenerationOptions;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.RopeScaling;
import dev.ptk.nativelib.CudaEnvironment;

/** {@code --backend cpu|cuda|auto} and {@code --yarn}: which device runs the model, with which RoPE. */
final class Backends {
  static final int PAGE_SIZE = CpuBackend.DEFAULT_PAGE_SIZE;

  private Backends() {}

  /** Checks the choice before any loading; {@code auto} is the CPU in this version. */
  static String choose(String name) {
    switch (name) {
      case "cpu", "auto" -> {
        return "cpu";
      }
      case "cuda" -> throw new UsageException("there is no CUDA backend in this version yet (" + cudaSeen()
          + "); use --backend cpu");
      default -> throw new UsageException("--backend must be cpu, cuda or auto, got '" + name + "'");
    }
  }

  private static String cudaSeen() {
    try {
      CudaEnvironment env = CudaEnvironment.query();
      return env.hasDevice() ? "CUDA device seen: " + env.devices().get(0).name() : "no CUDA device seen";
    } catch (RuntimeException | LinkageError e) {
      return "CUDA devices unknown: " + e.getMessage();
    }
  }

  static Backend open(Checkpoint checkpoint, RopeScaling scaling, int numPages) {
    return new CpuBackend(checkpoint.config().withRopeScaling(scaling), checkpoint.weights(), PAGE_SIZE, numPages);
  }

  /**
   * {@code --yarn}: {@code off} keeps config.json's rope_scaling (none in the released checkpoint:
   * plain RoPE), a factor {@code F > 1} overrides it with YaRN (original length 9280, as the released
   * example), and {@code auto} (where {@code automatic} is given) takes {@code automatic}.
   */
  static RopeScaling yarn(String value, RopeScaling fromConfig, RopeScaling automatic) {
    if (value.equals("auto") && automatic != null) return automatic;
    if (value.equals("off")) return fromConfig;
    double factor;
    try {
      factor = Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw new UsageException("--yarn must be " + (automatic != null ? "auto, " : "") + "off or a factor > 1, got '" + value + "'");
    }
    if (!(factor > 1) || Double.isInfinite(factor)) throw new UsageException("--yarn factor must be > 1, got " + value);
    return RopeScaling.yarn(factor, GenerationOptions.YARN_ORIGINAL_MAX_POSITIONS);
  }
}
