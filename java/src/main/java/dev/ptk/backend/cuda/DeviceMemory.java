package dev.ptk.backend.cuda;

import dev.ptk.model.DType;
import dev.ptk.model.Tensor;
import dev.ptk.nativelib.Native;
import dev.ptk.nativelib.global.ptk;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/** Device allocations owned together and freed together, last first. Not thread-safe. */
final class DeviceMemory implements AutoCloseable {
  private final List<Pointer> blocks = new ArrayList<>();
  private long bytes;

  /** A new device block of {@code size} bytes (cudaMalloc alignment: 256 bytes). */
  Pointer allocate(long size) {
    Pointer p = new Pointer();
    Native.check(ptk.ptk_malloc(p, size));
    blocks.add(p);
    bytes += size;
    return p;
  }

  /** The tensors' bytes one after the other in one new block (e.g. q, k and v projections as one). */
  Pointer upload(Pointer stream, Tensor... parts) {
    long size = 0;
    for (Tensor t : parts) size += bf16Bytes(t);
    Pointer block = allocate(size);
    long at = 0;
    for (Tensor t : parts) {
      long n = bf16Bytes(t);
      Native.check(ptk.ptk_copy_to_device(new BytePointer(block).position(at), host(t), n, stream));
      at += n;
    }
    Native.check(ptk.ptk_stream_synchronize(stream));  // the mapped pages may be released after this
    return block;
  }

  /** Bytes allocated so far. */
  long bytes() {
    return bytes;
  }

  static long bf16Bytes(Tensor t) {
    if (t.dtype() != DType.BF16) {
      throw new IllegalArgumentException(t + ": the CUDA backend needs bf16 weights, got " + t.dtype());
    }
    return 2 * t.elementCount();
  }

  /** The tensor's bytes where they are mapped (a heap buffer is copied to native memory first). */
  private static Pointer host(Tensor t) {
    ByteBuffer b = t.data();
    if (b.isDirect()) return new BytePointer(b);
    byte[] copy = new byte[b.remaining()];
    b.duplicate().get(copy);
    return new BytePointer(copy);
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (int i = blocks.size() - 1; i >= 0; i--) {
      try {
        Native.check(ptk.ptk_free(blocks.get(i)));
      } catch (RuntimeException e) {
        if (first == null) first = e;
      }
    }
    blocks.clear();
    bytes = 0;
    if (first != null) throw first;
  }
}
