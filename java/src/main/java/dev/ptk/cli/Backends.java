package dev.ptk.cli;

import dev.ptk.backend.Backend;
import dev.ptk.backend.cpu.ActivationPrecision;
import dev.ptk.backend.cpu.CpuBackend;
import dev.ptk.backend.cuda.CudaBackend;
import dev.ptk.engine.GenerationOptions;
import dev.ptk.model.Checkpoint;
import dev.ptk.model.ModelConfig;
import dev.ptk.model.RopeScaling;
import dev.ptk.nativelib.CudaEnvironment;
import dev.ptk.nativelib.Native;
import dev.ptk.nativelib.presets.LibraryFlavour;

/**
 * {@code --backend cpu|cuda|sim|auto} and {@code --yarn}: which device runs the model, with which
 * RoPE. {@code sim} is the CUDA backend on the sim device (the kernels run on the host, for
 * validation); it is never chosen automatically.
 */
final class Backends {
  static final int PAGE_SIZE = CpuBackend.DEFAULT_PAGE_SIZE;

  private Backends() {}

  /**
   * Checks the choice before any loading: {@code cuda} needs a real CUDA device and a library built
   * with the kernels; {@code sim} loads the sim flavour of libptk (it must come before any other
   * load of libptk in this JVM); {@code auto} takes CUDA when a real device is there, else the CPU.
   */
  static String choose(String name) {
    switch (name) {
      case "cpu" -> {
        return "cpu";
      }
      case "cuda" -> {
        String missing = cudaMissing();
        if (missing != null) throw new UsageException("--backend cuda: " + missing);
        return "cuda";
      }
      case "sim" -> {
        String missing = simMissing();
        if (missing != null) throw new UsageException("--backend sim: " + missing);
        return "sim";
      }
      case "auto" -> {
        return cudaMissing() == null ? "cuda" : "cpu";
      }
      default -> throw new UsageException("--backend must be cpu, cuda, sim or auto, got '" + name + "'");
    }
  }

  /** Why the CUDA backend cannot run on a real device here, and what to use instead; null when it can. */
  private static String cudaMissing() {
    try {
      CudaEnvironment env = CudaEnvironment.query();
      if (!env.builtWithCuda()) return "libptk was built without its CUDA kernels; use --backend cpu";
      if (!env.hasDevice()) {
        return "no CUDA device (driver " + CudaEnvironment.versionString(env.driverVersion()) + "); use --backend cpu";
      }
      return env.simulated() ? "device 0 is the simulated device; use --backend sim" : null;
    } catch (RuntimeException | LinkageError e) {
      return "CUDA unavailable: " + e.getMessage() + "; use --backend cpu";
    }
  }

  /** Why the sim device cannot run here (its library missing, or libptk already loaded as CUDA), or null. */
  private static String simMissing() {
    try {
      Native.load(LibraryFlavour.SIM);
      return null;
    } catch (RuntimeException | LinkageError e) {
      return e.getMessage();
    }
  }

  /** A token count given by {@code flag}, which must fill whole KV pages. */
  static int pageMultiple(int tokens, String flag) {
    if (tokens % PAGE_SIZE != 0) throw new UsageException(flag + " must be a multiple of " + PAGE_SIZE + ", got " + tokens);
    return tokens;
  }

  /** The chosen backend with {@code numPages} KV pages; on CUDA or the sim, an error names what does not fit. */
  static Backend open(String backend, Checkpoint checkpoint, RopeScaling scaling, int numPages) {
    ModelConfig config = checkpoint.config().withRopeScaling(scaling);
    ActivationPrecision cpuPrecision = cpuActivations(System.getenv(CPU_ACTIVATIONS));  // checked on every backend
    if (backend.equals("cuda") || backend.equals("sim")) {
      return new CudaBackend(config, checkpoint.weights(), PAGE_SIZE, numPages, CudaBackend.DEFAULT_MAX_TOKENS);
    }
    return new CpuBackend(config, checkpoint.weights(), PAGE_SIZE, numPages, Runtime.getRuntime().availableProcessors(),
        cpuPrecision);
  }

  /** The environment variable that sets the CPU backend's {@link ActivationPrecision}: f32 (unset) or bf16. */
  static final String CPU_ACTIVATIONS = "PTK_CPU_ACTIVATIONS";

  static ActivationPrecision cpuActivations(String value) {
    if (value == null || value.isEmpty()) return ActivationPrecision.F32;
    try {
      return ActivationPrecision.parse(value);
    } catch (IllegalArgumentException e) {
      throw new UsageException(CPU_ACTIVATIONS + "=" + value + ": must be f32 or bf16");
    }
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
