package dev.ptk.nativelib.presets;

/**
 * Which build of libptk a JVM loads, from the system property {@value #PROPERTY}: {@code cuda}
 * (the default: the kernels on a GPU) or {@code sim} (the same C ABI with the kernels run on the
 * host by the SIMT simulator, for validation). One JVM loads one flavour.
 */
public enum LibraryFlavour {
  CUDA,
  SIM;

  public static final String PROPERTY = "ptk.device";

  /** The flavour the property names; an unknown value is an error, never a silent default. */
  public static LibraryFlavour selected() {
    String value = System.getProperty(PROPERTY, "cuda");
    return switch (value) {
      case "cuda" -> CUDA;
      case "sim" -> SIM;
      default -> throw new IllegalArgumentException("-D" + PROPERTY + " must be cuda or sim, got '" + value + "'");
    };
  }

  /** The property's value that selects this flavour. */
  public String propertyValue() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * The class-path folder (above the platform's, e.g. linux-x86_64/) that holds this flavour's
   * libptk.so.0 and JNI wrapper; null for the bundled CUDA flavour beside the bindings.
   */
  String resourceFolder() {
    return this == SIM ? "dev/ptk/nativelib/sim/" : null;
  }
}
