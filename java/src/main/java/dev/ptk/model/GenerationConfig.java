package dev.ptk.model;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;

/**
 * The sampling defaults a checkpoint ships in {@code generation_config.json}. Absent fields take the
 * values vLLM uses (which serves the released engine): temperature 1, top_p 1, top_k 0 (off, unlike
 * HF's implicit 50), do_sample false. bos/eos may be one id or a list in the file.
 */
public record GenerationConfig(
    List<Integer> bosTokenIds, List<Integer> eosTokenIds, double temperature, double topP, int topK, boolean doSample) {

  /** What a checkpoint without generation_config.json gets. */
  public static final GenerationConfig DEFAULTS = new GenerationConfig(List.of(), List.of(), 1.0, 1.0, 0, false);

  public static GenerationConfig load(Path file) {
    String f = file.toString();
    JsonObject o = Json.readObject(file);
    GenerationConfig g = new GenerationConfig(
        List.copyOf(Json.integers(o, "bos_token_id", f)),
        List.copyOf(Json.integers(o, "eos_token_id", f)),
        Json.real(o, "temperature", DEFAULTS.temperature, f),
        Json.real(o, "top_p", DEFAULTS.topP, f),
        Json.integer(o, "top_k", DEFAULTS.topK, f),
        Json.bool(o, "do_sample", DEFAULTS.doSample, f));
    if (!(g.temperature >= 0)) throw new ModelFormatException(f + ": field \"temperature\" must be >= 0, got " + g.temperature);
    if (!(g.topP > 0 && g.topP <= 1)) throw new ModelFormatException(f + ": field \"top_p\" must be in (0, 1], got " + g.topP);
    if (g.topK < 0) throw new ModelFormatException(f + ": field \"top_k\" must be >= 0, got " + g.topK);
    return g;
  }
}
