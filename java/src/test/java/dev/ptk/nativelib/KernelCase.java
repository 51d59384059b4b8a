package dev.ptk.nativelib;

import com.google.gson.JsonObject;
import dev.ptk.model.SafeTensors;
import dev.ptk.model.Tensor;
import dev.ptk.nativelib.global.ptk;
import dev.ptk.testing.TestVectors;
import dev.ptk.testing.Tolerance;
import java.util.List;
import java.util.stream.Stream;

/** One kernel-level reference case of test-vectors/ (manifest entry and its tensors). */
record KernelCase(String name, String kind, JsonObject scalars, double rtol, double atol, SafeTensors tensors) {
  static final List<String> KINDS = List.of("rope_append", "decode", "prefill", "summary", "phase1", "ragged", "merge");

  /** The manifest entries of every kernel case, kinds in the order above. */
  static Stream<JsonObject> manifestEntries() {
    return KINDS.stream().flatMap(kind -> TestVectors.cases(kind).stream());
  }

  static String name(JsonObject entry) {
    return entry.get("name").getAsString();
  }

  static KernelCase open(JsonObject entry) {
    return new KernelCase(name(entry), entry.get("kind").getAsString(), TestVectors.scalars(entry), Tolerance.rtol(entry),
        Tolerance.atol(entry), TestVectors.open(entry));
  }

  Tensor tensor(String tensor) {
    return tensors.tensor(tensor);
  }

  int[] ints(String tensor) {
    return tensor(tensor).toInts();
  }

  double scalar(String key) {
    return scalars.get(key).getAsDouble();
  }

  /** Query rows: q's first dimension (rope_append: its tokens). */
  int queries() {
    return tensor(kind.equals("rope_append") ? "qkv" : "q").dim(0);
  }

  /** The KV layout of the case's caches, {@code [num_pages, page_size, kv_heads, head_dim]}. */
  ptk.ptk_kv_layout layout() {
    boolean rope = kind.equals("rope_append");
    Tensor cache = tensor(rope ? "k_cache_in" : "k_cache");
    int qHeads = tensor(rope ? "q_out" : "q").dim(1);
    return new ptk.ptk_kv_layout().num_qo_heads(qHeads).num_kv_heads(cache.dim(2)).head_dim(cache.dim(3))
        .page_size(cache.dim(1)).num_pages(cache.dim(0));
  }

  ptk.ptk_rope_config ropeConfig() {
    return new ptk.ptk_rope_config().theta(scalar("theta")).yarn_factor(scalar("yarn_factor"))
        .yarn_original_max((int) scalar("yarn_original_max")).beta_fast(scalar("beta_fast"))
        .beta_slow(scalar("beta_slow"));
  }

  @Override
  public String toString() {
    return name;
  }
}
