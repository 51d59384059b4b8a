package dev.ptk.nativelib;

import dev.ptk.nativelib.global.ptk;
import dev.ptk.nativelib.presets.LibraryFlavour;
import org.bytedeco.javacpp.Loader;

/**
 * Loads libptk through JavaCPP, in the {@link LibraryFlavour} that {@code -Dptk.device} names, and
 * turns its status codes into exceptions.
 *
 * <p>CUDA flavour: the CUDA runtime is shared with org.bytedeco:cuda: its cudart is loaded first
 * when it can be, so that libptk binds to that same instance. On a machine without a CUDA driver
 * org.bytedeco's cudart cannot load (it needs libcuda.so.1); that is a normal condition, and libptk
 * then binds to the system's CUDA runtime, where it reports zero devices. org.bytedeco's cuBLAS is
 * preloaded too where it loads, so that libptk's run-time lookup of libcublas.so.13 finds it; where
 * it does not, libptk searches the loader path itself and ptk_gemm_create names what is missing.
 *
 * <p>Sim flavour: no CUDA library is loaded; the bindings' loader takes the sim build of libptk
 * (see {@code PtkPresets}), and the load fails unless that library reports a simulated device.
 */
public final class Native {
  /** The JavaCPP name of libptk, the key of its path among the loaded libraries. */
  private static final String LIBRARY = "ptk@.0";

  private static volatile Loaded loaded;

  /** What was loaded: the flavour, how the CUDA runtime was bound, libptk's file. */
  private record Loaded(LibraryFlavour flavour, String runtimeBinding, String library) {}

  private Native() {}

  /** Loads the flavour {@code -Dptk.device} names (cuda by default), once; throws {@link PtkException} on failure. */
  public static void load() {
    LibraryFlavour wanted;
    try {
      wanted = LibraryFlavour.selected();
    } catch (IllegalArgumentException e) {
      throw new PtkException(ptk.PTK_ERR_INVALID_ARGUMENT, e.getMessage());
    }
    load(wanted);
  }

  /**
   * Loads {@code flavour}, setting {@code -Dptk.device} to it first so that every later load in
   * this JVM agrees; throws {@link PtkException} when another flavour is already loaded (one JVM
   * loads one libptk) or the library cannot be loaded.
   */
  public static synchronized void load(LibraryFlavour flavour) {
    if (loaded != null) {
      if (loaded.flavour() != flavour) {
        throw new PtkException(ptk.PTK_ERR_INVALID_ARGUMENT, "libptk is already loaded as the " + loaded.flavour().propertyValue()
            + " flavour in this JVM, not " + flavour.propertyValue() + ": one JVM loads one flavour (-D"
            + LibraryFlavour.PROPERTY + ")");
      }
      return;
    }
    System.setProperty(LibraryFlavour.PROPERTY, flavour.propertyValue());
    String binding = flavour == LibraryFlavour.CUDA ? preloadCudaLibraries() : "none: the sim flavour runs the kernels on the host";
    try {
      Loader.load(ptk.class);
    } catch (UnsatisfiedLinkError e) {
      throw new PtkException(ptk.PTK_ERR_NO_CUDA, "cannot load the ptk native library: " + e.getMessage());
    }
    String library = Loader.getLoadedLibraries().getOrDefault(LIBRARY, "libptk.so.0");
    if (flavour == LibraryFlavour.SIM) requireSimulatedDevice(library);
    loaded = new Loaded(flavour, binding, library);
  }

  /** The flavour of libptk loaded in this JVM (loading the selected one first). */
  public static LibraryFlavour flavour() {
    load();
    return loaded.flavour();
  }

  /** The file libptk was loaded from. */
  public static String libraryPath() {
    load();
    return loaded.library();
  }

  /** How the CUDA runtime was bound (for environment reports). */
  public static String cudaRuntimeBinding() {
    load();
    return loaded.runtimeBinding();
  }

  /** Throws a {@link PtkException} carrying ptk_last_error() unless {@code status} is PTK_OK. */
  public static void check(int status) {
    if (status == ptk.PTK_OK) return;
    String message = ptk.ptk_last_error().getString();
    if (message.isEmpty()) message = ptk.ptk_status_string(status).getString();
    throw new PtkException(status, message);
  }

  /** cudart, then cuBLAS where cudart loaded; returns how the runtime was bound. */
  private static String preloadCudaLibraries() {
    try {
      Loader.load(org.bytedeco.cuda.global.cudart.class);
    } catch (UnsatisfiedLinkError e) {
      // Its loader names the JNI wrapper, but the usual cause is a missing driver (libcuda.so.1).
      return "system CUDA runtime (org.bytedeco:cuda did not load: no CUDA driver? " + firstLine(e.getMessage()) + ")";
    }
    try {
      Loader.load(org.bytedeco.cuda.global.cublas.class);
      return "shared with org.bytedeco:cuda (cudart and cuBLAS)";
    } catch (LinkageError e) {
      return "shared with org.bytedeco:cuda (cudart; its cuBLAS did not load: " + firstLine(e.getMessage()) + ")";
    }
  }

  /**
   * The sim flavour's one device must say it is simulated. Anything else means the loader found
   * another build (the sim folder missing from the class path, or a sim tree configured without
   * {@code -DPTK_DEVICE=sim}), or that the sim library's calls into its own CUDA runtime were bound
   * to a real libcudart that another library had loaded globally (DJL's tokenizer does, through
   * JNA, when it probes for CUDA).
   */
  private static void requireSimulatedDevice(String library) {
    int[] count = new int[1];
    check(ptk.ptk_device_count(count));
    boolean simulated = false;
    if (count[0] > 0) {
      try (ptk.ptk_device_info info = new ptk.ptk_device_info()) {
        check(ptk.ptk_device_get_info(0, info));
        simulated = info.simulated() != 0;
      }
    }
    if (!simulated) {
      throw new PtkException(ptk.PTK_ERR_NO_DEVICE, "-D" + LibraryFlavour.PROPERTY + "=sim loaded " + library + ", which reports "
          + (count[0] == 0 ? "no device" : "a device that is not simulated") + ": it is not the sim build of libptk "
          + "(java/pom.xml builds it into build/sim with -DPTK_DEVICE=sim), or its CUDA runtime calls went to another "
          + "libcudart loaded in this process");
    }
  }

  private static String firstLine(String s) {
    if (s == null) return "no reason given";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
