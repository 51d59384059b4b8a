package dev.ptk.model;

/**
 * The fields of a Qwen2 / ParaThinker {@code config.json} that the forward pass needs.
 *
 * @param maxSegments rows of each layer's thought-embedding table ({@code max_segments}, 32 in the
 *     released checkpoint); a plain Qwen2 checkpoint has none and uses zero embeddings
 */
public record ModelConfig(
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int intermediateSize,
    int vocabSize,
    int maxPositionEmbeddings,
    double ropeTheta,
    RopeScaling ropeScaling,
    double rmsNormEps,
    boolean tieWordEmbeddings,
    int maxSegments,
    int bosTokenId,
    int eosTokenId) {

  public int headDim() {
    return hiddenSize / numHeads;
  }

  /** Query heads per kv head. */
  public int groupSize() {
    return numHeads / numKvHeads;
  }

  /** Width of one row of the fused QKV projection output: q heads, then k heads, then v heads. */
  public int qkvWidth() {
    return (numHeads + 2 * numKvHeads) * headDim();
  }

  public ModelConfig withRopeScaling(RopeScaling scaling) {
    return new ModelConfig(hiddenSize, numLayers, numHeads, numKvHeads, intermediateSize, vocabSize,
        maxPositionEmbeddings, ropeTheta, scaling, rmsNormEps, tieWordEmbeddings, maxSegments,
        bosTokenId, eosTokenId);
  }
}
