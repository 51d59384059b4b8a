package dev.ptk.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.nativelib.global.ptk;
import dev.ptk.nativelib.presets.LibraryFlavour;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The device tests' JVM loaded the flavour -Dptk.device names, and only that one: the sim
 * flavour's libptk (never the bundled CUDA build beside it) with its simulated device, or the
 * CUDA build with a real one.
 */
@Tag("device")
class DeviceFlavourTest {

  @Test
  void theSelectedFlavourIsLoadedAndItsDeviceSaysWhatItIs() {
    CudaEnvironment env = CudaEnvironment.query();
    LibraryFlavour selected = LibraryFlavour.selected();
    assertEquals(selected, env.flavour());
    assertTrue(env.hasDevice(), "no CUDA device: the device tests need one (" + env.describe().trim() + ")");
    assertTrue(env.builtWithCuda(), "the device flavours report their kernels as built");
    DeviceInfo d = env.devices().get(0);
    assertEquals(selected == LibraryFlavour.SIM, d.simulated(), d.toString());
    assertEquals(selected == LibraryFlavour.SIM, env.describe().contains(
        "simulated device: kernels run on the host for validation; timings are meaningless"), env.describe());
    assertTrue(d.totalMemoryBytes() > 0 && d.multiprocessors() > 0, d.toString());
    try (ptk.ptk_device_info raw = new ptk.ptk_device_info()) {
      Native.check(ptk.ptk_device_get_info(0, raw));
      assertEquals(selected == LibraryFlavour.SIM ? 1 : 0, raw.simulated(), "ptk_device_info.simulated through the bindings");
    }
  }

  /** /proc/self/maps: one libptk.so.0 and one JNI wrapper are mapped, both from the flavour's own folder. */
  @Test
  void oneLibptkIsMappedFromTheFlavoursFolder() throws IOException {
    Native.load();
    List<String> mapped = Files.readAllLines(Path.of("/proc/self/maps")).stream()
        .map(line -> line.substring(line.lastIndexOf(' ') + 1))
        .filter(file -> file.endsWith("/libptk.so.0") || file.endsWith("/libjniptk.so"))
        .distinct().sorted().collect(Collectors.toList());
    assertEquals(2, mapped.size(), "mapped: " + mapped);
    String folder = Path.of(mapped.get(0)).getParent().toString();
    assertEquals(folder, Path.of(mapped.get(1)).getParent().toString(), "one folder: " + mapped);
    assertEquals(Path.of(Native.libraryPath()).toRealPath().toString(), mapped.get(1));
    boolean simFolder = folder.endsWith("/dev/ptk/nativelib/sim/linux-x86_64");
    assertEquals(LibraryFlavour.selected() == LibraryFlavour.SIM, simFolder, folder);
  }

  /** Device memory is accounted: an allocation shows in ptk_mem_info's free bytes and comes back when freed. */
  @Test
  void anAllocationShowsInTheFreeMemoryAndComesBack() {
    Native.load();
    long before = freeBytes();
    Pointer block = new Pointer();
    Native.check(ptk.ptk_malloc(block, 64L << 20));
    long during;
    try {
      during = freeBytes();
    } finally {
      Native.check(ptk.ptk_free(block));
    }
    assertTrue(during <= before - (64L << 20), "free " + before + " -> " + during + " with 64 MiB allocated");
    assertEquals(before, freeBytes());
  }

  private static long freeBytes() {
    try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
      Native.check(ptk.ptk_mem_info(free, total));
      assertTrue(free.get() <= total.get());
      return free.get();
    }
  }
}
