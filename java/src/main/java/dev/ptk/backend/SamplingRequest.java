package dev.ptk.backend;

/**
 * What {@link Backend#sample} draws with: the request's parameters and, per logit row, the key of
 * its random draw, the path ({@code 1..P} for thinking paths, 0 for the summary) and the step (the
 * index of the token being drawn in that path's or the summary's output).
 */
public record SamplingRequest(SamplingParams params, int[] pathIds, int[] steps) {
  public SamplingRequest {
    if (params == null || pathIds == null || steps == null) {
      throw new IllegalArgumentException("sampling request: params, pathIds and steps must be non-null");
    }
    if (pathIds.length != steps.length) {
      throw new IllegalArgumentException("sampling request: " + pathIds.length + " pathIds but " + steps.length + " steps");
    }
    for (int r = 0; r < steps.length; r++) {
      if (pathIds[r] < 0 || steps[r] < 0) {
        throw new IllegalArgumentException("sampling request row " + r + ": pathIds " + pathIds[r] + ", steps " + steps[r]
            + " must be >= 0");
      }
    }
  }

  /** Rejects a request whose rows are not the batch's logit rows. */
  public void requireRowsOf(ForwardBatch batch) {
    if (batch.logitRows() == null || steps.length != batch.logitRows().length) {
      throw new IllegalArgumentException("sampling request: " + steps.length + " rows for a batch with "
          + (batch.logitRows() == null ? "null" : batch.logitRows().length) + " logitRows");
    }
  }
}
