package dev.ptk.nativelib;

import dev.ptk.nativelib.global.ptk;
import org.bytedeco.javacpp.Loader;

/**
 * Loads libptk through JavaCPP and turns its status codes into exceptions.
 *
 * <p>The CUDA runtime is shared with org.bytedeco:cuda: its cudart is loaded first when it can be,
 * so that libptk binds to that same instance. On a machine without a CUDA driver org.bytedeco's
 * cudart cannot load (it needs libcuda.so.1); that is a normal condition, and libptk then binds to
 * the system's CUDA runtime, where it reports zero devices.
 */
public final class Native {
  private static volatile String cudartNote;

  private Native() {}

  /** Loads the library once; throws {@link PtkException} with the loader's reason on failure. */
  public static synchronized void load() {
    if (cudartNote != null) return;
    String note;
    try {
      Loader.load(org.bytedeco.cuda.global.cudart.class);
      note = "shared with org.bytedeco:cuda";
    } catch (UnsatisfiedLinkError e) {
      // Its loader names the JNI wrapper, but the usual cause is a missing driver (libcuda.so.1).
      note = "system CUDA runtime (org.bytedeco:cuda did not load: no CUDA driver? "
          + firstLine(e.getMessage()) + ")";
    }
    try {
      Loader.load(ptk.class);
    } catch (UnsatisfiedLinkError e) {
      throw new PtkException(ptk.PTK_ERR_NO_CUDA, "cannot load the ptk native library: " + e.getMessage());
    }
    cudartNote = note;
  }

  /** How the CUDA runtime was bound (for environment reports). */
  public static String cudaRuntimeBinding() {
    load();
    return cudartNote;
  }

  /** Throws a {@link PtkException} carrying ptk_last_error() unless {@code status} is PTK_OK. */
  public static void check(int status) {
    if (status == ptk.PTK_OK) return;
    String message = ptk.ptk_last_error().getString();
    if (message.isEmpty()) message = ptk.ptk_status_string(status).getString();
    throw new PtkException(status, message);
  }

  private static String firstLine(String s) {
    if (s == null) return "no reason given";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
