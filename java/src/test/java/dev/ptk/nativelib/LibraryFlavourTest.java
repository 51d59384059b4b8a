package dev.ptk.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.nativelib.presets.LibraryFlavour;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * -Dptk.device names the flavour of libptk a JVM loads; an unknown name is an error, and a second
 * flavour in a JVM that loaded one is refused without touching the first.
 */
class LibraryFlavourTest {

  @Test
  void thePropertyNamesTheFlavourAndCudaIsTheDefault() {
    assertEquals(LibraryFlavour.CUDA, with(null, LibraryFlavour::selected));
    assertEquals(LibraryFlavour.CUDA, with("cuda", LibraryFlavour::selected));
    assertEquals(LibraryFlavour.SIM, with("sim", LibraryFlavour::selected));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> with("gpu", LibraryFlavour::selected));
    assertEquals("-Dptk.device must be cuda or sim, got 'gpu'", e.getMessage());
    PtkException load = assertThrows(PtkException.class, () -> with("gpu", () -> {
      Native.load();
      return null;
    }));
    assertEquals(e.getMessage(), load.getMessage());
  }

  /** This JVM loads the CUDA build (the default execution sets no flavour); the sim is refused, the property left as it was. */
  @Test
  void aSecondFlavourIsRefused() {
    assertEquals(LibraryFlavour.CUDA, Native.flavour());
    PtkException e = assertThrows(PtkException.class, () -> Native.load(LibraryFlavour.SIM));
    assertTrue(e.getMessage().startsWith("libptk is already loaded as the cuda flavour in this JVM, not sim"), e.getMessage());
    assertFalse("sim".equals(System.getProperty(LibraryFlavour.PROPERTY)));
    assertEquals(LibraryFlavour.CUDA, CudaEnvironment.query().flavour());
  }

  /** {@code value} in -Dptk.device (null: unset) while {@code body} runs; the property is restored after. */
  private static <T> T with(String value, Supplier<T> body) {
    String before = System.getProperty(LibraryFlavour.PROPERTY);
    try {
      if (value == null) System.clearProperty(LibraryFlavour.PROPERTY);
      else System.setProperty(LibraryFlavour.PROPERTY, value);
      return body.get();
    } finally {
      if (before == null) System.clearProperty(LibraryFlavour.PROPERTY);
      else System.setProperty(LibraryFlavour.PROPERTY, before);
    }
  }
}
