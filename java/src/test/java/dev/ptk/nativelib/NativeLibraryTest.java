package dev.ptk.nativelib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ptk.nativelib.global.ptk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** libptk loads through JavaCPP on any machine; its errors become exceptions naming the argument. */
class NativeLibraryTest {

  @Test
  void versionMatchesTheCMakeProject() throws Exception {
    String cmake = Files.readString(Path.of("..", "CMakeLists.txt"));
    Matcher m = Pattern.compile("project\\(ptk VERSION ([0-9.]+)").matcher(cmake);
    assertTrue(m.find(), "root CMakeLists.txt declares the project version");
    assertEquals(m.group(1), CudaEnvironment.query().libraryVersion());
  }

  @Test
  void deviceListIsConsistentWithTheRuntime() {
    CudaEnvironment env = CudaEnvironment.query();
    if (env.builtWithCuda()) {
      assertTrue(env.runtimeVersion() >= 12000, "runtime version " + env.runtimeVersion());
    }
    if (env.hasDevice()) {
      DeviceInfo d = env.devices().get(0);
      assertTrue(d.multiprocessors() > 0 && d.totalMemoryBytes() > 0, d.toString());
    } else {
      // No GPU is a normal condition: reported, not thrown.
      assertTrue(env.describe().contains("no CUDA device"), env.describe());
    }
  }

  @Test
  void nullArgumentIsAnExceptionNamingIt() {
    Native.load();
    PtkException e = assertThrows(PtkException.class,
        () -> Native.check(ptk.ptk_device_get_info(0, null)));
    assertEquals(ptk.PTK_ERR_INVALID_ARGUMENT, e.status());
    assertTrue(e.getMessage().contains("info"), e.getMessage());
  }

  @Test
  void missingDeviceIsAClearError() {
    CudaEnvironment env = CudaEnvironment.query();
    int past = env.devices().size();
    try (ptk.ptk_device_info info = new ptk.ptk_device_info()) {
      PtkException e = assertThrows(PtkException.class,
          () -> Native.check(ptk.ptk_device_get_info(past, info)));
      assertTrue(e.getMessage().contains("device") || e.getMessage().contains("CUDA"), e.getMessage());
    }
  }
}
