package dev.ptk.backend.cuda;

import dev.ptk.backend.cuda.MatmulChoice.Projection;
import dev.ptk.nativelib.global.ptk;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Pointer;

/**
 * ptk_gemv's split workspace ({@code at} null when {@code bytes} is 0): one for every gemv of the
 * backend, which all run on one stream. Zero before the first gemv; each launch leaves it zero.
 */
record GemvWorkspace(Pointer at, long bytes) {
  /** The bytes the most demanding of the model's projections needs (ptk_gemv_workspace_bytes). */
  static long bytes(Projections p) {
    return Stream.concat(p.layer().stream(), Stream.of(p.lmHead()))
        .mapToLong(GemvWorkspace::bytes)
        .max()
        .orElse(0);
  }

  private static long bytes(Projection p) {
    return ptk.ptk_gemv_workspace_bytes(p.n(), p.k());
  }
}
