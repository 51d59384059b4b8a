package dev.ptk.nativelib;

import dev.ptk.model.DType;
import dev.ptk.model.Tensor;
import dev.ptk.nativelib.global.ptk;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * Device memory and a stream owned by one test, through the runtime ABI (ptk_malloc, copies,
 * ptk_stream_*); closing frees every block and the stream.
 */
final class DeviceBuffers implements AutoCloseable {
  private final Pointer stream = new Pointer();
  private final List<Pointer> blocks = new ArrayList<>();

  DeviceBuffers() {
    Native.check(ptk.ptk_stream_create(stream));
  }

  Pointer stream() {
    return stream;
  }

  Pointer allocate(long bytes) {
    Pointer p = new Pointer();
    Native.check(ptk.ptk_malloc(p, bytes));
    blocks.add(p);
    return p;
  }

  /** A new block holding the tensor's bytes. */
  Pointer upload(Tensor t) {
    long bytes = t.elementCount() * t.dtype().size();
    Pointer p = allocate(bytes);
    try (BytePointer host = new BytePointer(t.data())) {
      Native.check(ptk.ptk_copy_to_device(p, host, bytes, stream));
      synchronize();  // the host bytes are a mapped file region, read before it may go
    }
    return p;
  }

  /** Fills the block with 0xFF bytes: NaN in bf16 and f32, so an element a kernel skips fails. */
  void poison(Pointer p, long bytes) {
    try (BytePointer ones = new BytePointer(bytes)) {
      ones.fill(0xFF);
      Native.check(ptk.ptk_copy_to_device(p, ones, bytes, stream));
      synchronize();
    }
  }

  /** {@code n} elements of {@code dtype} (F32 or BF16) read back and widened to float. */
  float[] download(Pointer p, DType dtype, int n) {
    float[] out = new float[n];
    if (dtype == DType.F32) {
      try (FloatPointer host = new FloatPointer(n)) {
        Native.check(ptk.ptk_copy_to_host(host, p, 4L * n, stream));
        synchronize();
        host.get(out);
      }
    } else if (dtype == DType.BF16) {
      short[] bits = new short[n];
      try (ShortPointer host = new ShortPointer(n)) {
        Native.check(ptk.ptk_copy_to_host(host, p, 2L * n, stream));
        synchronize();
        host.get(bits);
      }
      for (int i = 0; i < n; i++) out[i] = Tensor.bf16ToFloat(bits[i]);
    } else {
      throw new IllegalArgumentException("cannot read " + dtype + " back as float");
    }
    return out;
  }

  void synchronize() {
    Native.check(ptk.ptk_stream_synchronize(stream));
  }

  @Override
  public void close() {
    // Everything is released even after a failure; the first failure is reported.
    int status = ptk.ptk_stream_synchronize(stream);
    for (int i = blocks.size() - 1; i >= 0; i--) status = first(status, ptk.ptk_free(blocks.get(i)));
    blocks.clear();
    Native.check(first(status, ptk.ptk_stream_destroy(stream)));
  }

  private static int first(int earlier, int later) {
    return earlier != ptk.PTK_OK ? earlier : later;
  }
}
