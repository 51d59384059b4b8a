package dev.ptk.nativelib.presets;

import org.bytedeco.javacpp.ClassProperties;
import org.bytedeco.javacpp.LoadEnabled;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

/**
 * Declares the C ABI that JavaCPP turns into {@code dev.ptk.nativelib.global.ptk}: the headers to
 * parse and the library to link. Everything else is generated from the headers.
 *
 * <p>At load time it also picks the {@link LibraryFlavour}: for the sim flavour the loader looks
 * in that flavour's folder first, which holds its libptk.so.0 and a copy of the JNI wrapper, so
 * that the wrapper binds to the sim library and the bundled CUDA one is never loaded. Choosing
 * here, rather than in a loader of ours, holds whichever class first touches the bindings.
 */
@Properties(
    target = "dev.ptk.nativelib.global.ptk",
    value = @Platform(
        value = "linux-x86_64",
        include = {"ptk/ptk.h", "ptk/kv_layout.h", "ptk/rope.h", "ptk/attention.h", "ptk/gemm.h", "ptk/decoder.h",
            "ptk/runtime.h", "ptk/cpu.h"},
        link = "ptk@.0",
        library = "jniptk"))
public class PtkPresets implements InfoMapper, LoadEnabled {
  @Override
  public void map(InfoMap infoMap) {
    infoMap.put(new Info("PTK_API").cppTypes().annotations());
    infoMap.put(new Info("PTK_PTK_H", "PTK_EXPORT_H", "PTK_KV_LAYOUT_H", "PTK_ROPE_H", "PTK_ATTENTION_H", "PTK_GEMM_H",
        "PTK_DECODER_H", "PTK_RUNTIME_H", "PTK_CPU_H").define(false));
  }

  @Override
  public void init(ClassProperties properties) {
    // Called for each class of the bindings' hierarchy: the folder goes in once, ahead of the default.
    String folder = LibraryFlavour.selected().resourceFolder();
    java.util.List<String> folders = properties.get("platform.preloadresource");
    if (folder != null && !folders.contains(folder)) folders.add(0, folder);
  }
}
