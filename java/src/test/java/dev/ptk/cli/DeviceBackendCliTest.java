package dev.ptk.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ptk.nativelib.presets.LibraryFlavour;
import dev.ptk.testing.Cli;
import dev.ptk.testing.Cli.Run;
import dev.ptk.testing.TestVectors;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code --backend} in the device tests' JVM, whose libptk is the flavour -Dptk.device names: on
 * the sim, {@code sim} runs the CUDA backend there (timing its matmuls at start-up, as any CLI run
 * does), {@code cuda} refuses the simulated device and {@code auto} takes the CPU; on a GPU,
 * {@code cuda} and {@code auto} take it and {@code sim} is refused, the CUDA build being loaded.
 */
@Tag("device")
class DeviceBackendCliTest {
  private static final boolean SIM = LibraryFlavour.selected() == LibraryFlavour.SIM;

  @Test
  void infoNamesTheDeviceForWhatItIs() {
    Run r = Cli.ptk("info");
    assertEquals(0, r.code(), r.err());
    assertEquals(SIM, r.out().contains("simulated device: kernels run on the host for validation; timings are meaningless"),
        r.out());
    assertTrue(r.out().contains("libptk 0.1.0, " + LibraryFlavour.selected().propertyValue() + " flavour"), r.out());
  }

  @Test
  void eachBackendNameTakesOrRefusesTheLoadedDevice() {
    if (SIM) {
      assertEquals("sim", Backends.choose("sim"));
      assertEquals("cpu", Backends.choose("auto"), "auto never picks the simulated device");
      UsageException e = assertThrows(UsageException.class, () -> Backends.choose("cuda"));
      assertEquals("--backend cuda: device 0 is the simulated device; use --backend sim", e.getMessage());
    } else {
      assertEquals("cuda", Backends.choose("cuda"));
      assertEquals("cuda", Backends.choose("auto"));
      UsageException e = assertThrows(UsageException.class, () -> Backends.choose("sim"));
      assertTrue(e.getMessage().startsWith("--backend sim: libptk is already loaded as the cuda flavour"), e.getMessage());
    }
    assertEquals("cpu", Backends.choose("cpu"));
  }

  /** The CLI's own path on the device: matmuls timed at start-up, greedy generation, the reference's summary. */
  @Test
  void greedyGenerateOnTheDevicePrintsTheReferenceSummary() throws IOException {
    JsonObject v = JsonParser.parseString(Files.readString(TestVectors.file("model/flow_p3.json")))
        .getAsJsonObject();
    Run r = Cli.ptk("generate", "--model", TestVectors.tinyModel().toString(), "--paths", "3", "--max-tokens", "48",
        "--temperature", "0", "--backend", SIM ? "sim" : "cuda", v.get("question").getAsString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("=== summary (stop, " + v.getAsJsonArray("summary").size() + " tokens) ===\n"
        + v.get("summary_text").getAsString() + "\n"), r.out());
    assertTrue(r.err().contains("; cuda:0 "), "the timings name the CUDA backend: " + r.err());
  }
}
