package dev.ptk.engine;

import dev.ptk.model.SpecialTokens;
import java.util.Arrays;

/**
 * The token ids that drive the ParaThinker flow (SEMANTICS.md §3.2, §9.2).
 *
 * @param pathStarts {@code <think1>} .. {@code <think8>}
 * @param pathEnds {@code </think1>} .. {@code </think8>}
 * @param think {@code <think>}, which replaces a sampled path-start or {@code <summary>} token
 * @param summary {@code <summary>}
 * @param summaryEnd {@code </summary>}
 * @param pad {@code <vllm_pad>}
 * @param stops ids that end a path or the summary: {@code </think>}, {@code </think1>} ..
 *     {@code </think8>}, {@code </summary>} (EOS is ignored, like the released engine)
 * @param summaryTemplate {@code <summary>} followed by the forced summary opening
 */
public record ControlTokens(
    int[] pathStarts, int[] pathEnds, int think, int summary, int summaryEnd, int pad, int[] stops, int[] summaryTemplate) {

  public ControlTokens {
    if (pathStarts.length == 0 || pathStarts.length != pathEnds.length) {
      throw new IllegalArgumentException("need as many path end tokens as start tokens, got "
          + pathStarts.length + " and " + pathEnds.length);
    }
    if (summaryTemplate.length == 0 || summaryTemplate[0] != summary) {
      throw new IllegalArgumentException("the summary template must start with <summary> (" + summary + ")");
    }
  }

  /** The released engine's tokens, looked up by name, and its summary template ids. */
  public static ControlTokens from(SpecialTokens special, int[] summaryTemplate) {
    int[] stops = new int[special.thinkEnd().length + 2];
    stops[0] = special.endThink();
    System.arraycopy(special.thinkEnd(), 0, stops, 1, special.thinkEnd().length);
    stops[stops.length - 1] = special.endSummary();
    return new ControlTokens(special.thinkStart().clone(), special.thinkEnd().clone(), special.think(), special.summary(),
        special.endSummary(), special.pad(), stops, summaryTemplate.clone());
  }

  /**
   * The start token of path {@code i} (1-based). Paths past the trained start tokens reuse them
   * cyclically; their segment id stays {@code i}.
   */
  public int pathStart(int i) {
    return pathStarts[(i - 1) % pathStarts.length];
  }

  public int pathEnd(int i) {
    return pathEnds[(i - 1) % pathEnds.length];
  }

  public boolean isStop(int id) {
    for (int s : stops) if (s == id) return true;
    return false;
  }

  /** Tokens a path may not emit itself: any path start and {@code <summary>}. */
  public boolean isReplacedByThink(int id) {
    if (id == summary) return true;
    for (int s : pathStarts) if (s == id) return true;
    return false;
  }

  @Override
  public String toString() {
    return "ControlTokens[starts=" + Arrays.toString(pathStarts) + ", stops=" + Arrays.toString(stops) + "]";
  }
}
