package dev.ptk.backend;

import java.util.Arrays;

/**
 * What {@link Backend#sample} draws with, per logit row: the parameters of the request the row
 * belongs to and the key of its random draw, the path ({@code 1..P} for thinking paths, 0 for the
 * summary) and the step (the index of the token being drawn in that path's or the summary's
 * output). Rows of different requests may carry different parameters and seeds.
 */
public record SamplingRequest(SamplingParams[] params, int[] pathIds, int[] steps) {
  public SamplingRequest {
    if (params == null || pathIds == null || steps == null) {
      throw new IllegalArgumentException("sampling request: params, pathIds and steps must be non-null");
    }
    if (pathIds.length != steps.length || params.length != steps.length) {
      throw new IllegalArgumentException("sampling request: " + params.length + " params, " + pathIds.length
          + " pathIds and " + steps.length + " steps; one of each per row");
    }
    for (int r = 0; r < steps.length; r++) {
      if (params[r] == null) throw new IllegalArgumentException("sampling request row " + r + ": params must be non-null");
      if (pathIds[r] < 0 || steps[r] < 0) {
        throw new IllegalArgumentException("sampling request row " + r + ": pathIds " + pathIds[r] + ", steps " + steps[r]
            + " must be >= 0");
      }
    }
  }

  /** Every row drawn with the same parameters (one request's rows). */
  public static SamplingRequest of(SamplingParams params, int[] pathIds, int[] steps) {
    SamplingParams[] each = new SamplingParams[steps.length];
    Arrays.fill(each, params);
    return new SamplingRequest(each, pathIds, steps);
  }

  public int rows() {
    return steps.length;
  }

  /** The rows {@code rows[i]} of this request, in that order. */
  public SamplingRequest select(int[] rows) {
    SamplingParams[] p = new SamplingParams[rows.length];
    int[] paths = new int[rows.length];
    int[] s = new int[rows.length];
    for (int i = 0; i < rows.length; i++) {
      p[i] = params[rows[i]];
      paths[i] = pathIds[rows[i]];
      s[i] = steps[rows[i]];
    }
    return new SamplingRequest(p, paths, s);
  }

  /** Rejects a request whose rows are not the batch's logit rows. */
  public void requireRowsOf(ForwardBatch batch) {
    if (batch.logitRows() == null || steps.length != batch.logitRows().length) {
      throw new IllegalArgumentException("sampling request: " + steps.length + " rows for a batch with "
          + (batch.logitRows() == null ? "null" : batch.logitRows().length) + " logitRows");
    }
  }
}
