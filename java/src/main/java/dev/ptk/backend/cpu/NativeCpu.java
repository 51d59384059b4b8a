package dev.ptk.backend.cpu;

import dev.ptk.nativelib.Native;
import dev.ptk.nativelib.PtkException;
import dev.ptk.nativelib.global.ptk;

/**
 * Whether the CPU backend's native kernels (libptk, ptk/cpu.h) run in this JVM, and on which ISA
 * path; decided once. libptk not loading is a normal condition (the Java matmul runs instead, and
 * {@link #reason} says why); a PTK_CPU_ISA that names a path this CPU lacks is an error.
 */
final class NativeCpu {
  private static final String ISA;
  private static final String UNAVAILABLE;

  static {
    String isa = null, unavailable = null;
    try {
      Native.load();
      int[] level = new int[1];
      int status = ptk.ptk_cpu_isa(level);
      if (status == ptk.PTK_ERR_UNSUPPORTED) {
        unavailable = "PTK_CPU_ISA: " + ptk.ptk_last_error().getString();
      } else {
        Native.check(status);
        isa = ptk.ptk_cpu_isa_name(level[0]).getString();
      }
    } catch (PtkException | LinkageError e) {
      unavailable = "libptk not loaded: " + e.getMessage();
    }
    ISA = isa;
    UNAVAILABLE = unavailable;
  }

  private NativeCpu() {}

  /**
   * True when the native matmul runs; throws when PTK_CPU_ISA forces a path this CPU cannot run
   * (asked for, so never silently replaced by another).
   */
  static boolean available() {
    if (UNAVAILABLE != null && UNAVAILABLE.startsWith("PTK_CPU_ISA")) throw new IllegalStateException(UNAVAILABLE);
    return ISA != null;
  }

  /** The ISA path's name ("avx2", ...), or null when not available. */
  static String isa() {
    return ISA;
  }

  /** Why the native matmul does not run, or null. */
  static String reason() {
    return UNAVAILABLE;
  }
}
