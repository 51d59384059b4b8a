package dev.ptk.nativelib.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

/**
 * Declares the C ABI that JavaCPP turns into {@code dev.ptk.nativelib.global.ptk}: the headers to
 * parse and the library to link. Everything else is generated from the headers.
 */
@Properties(
    target = "dev.ptk.nativelib.global.ptk",
    value = @Platform(
        value = "linux-x86_64",
        include = {"ptk/ptk.h", "ptk/kv_layout.h", "ptk/rope.h", "ptk/attention.h", "ptk/decoder.h",
            "ptk/runtime.h"},
        link = "ptk@.0",
        library = "jniptk"))
public class PtkPresets implements InfoMapper {
  @Override
  public void map(InfoMap infoMap) {
    infoMap.put(new Info("PTK_API").cppTypes().annotations());
    infoMap.put(new Info("PTK_PTK_H", "PTK_EXPORT_H", "PTK_KV_LAYOUT_H", "PTK_ROPE_H", "PTK_ATTENTION_H",
        "PTK_DECODER_H", "PTK_RUNTIME_H").define(false));
  }
}
