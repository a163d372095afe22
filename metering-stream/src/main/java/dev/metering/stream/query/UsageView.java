package dev.metering.stream.query;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.metering.records.state.ModelUsage;
import dev.metering.records.state.UsageTotals;
import java.io.IOException;
import java.math.BigDecimal;

/**
 * Usage as the HTTP API shows it: tokens by kind, their total, requests, and cost both exact
 * (integer micro-dollars) and as decimal dollars.
 */
@JsonSerialize(using = UsageView.Writer.class)
public record UsageView(
    long inputTokens,
    long outputTokens,
    long cacheCreationInputTokens,
    long cacheReadInputTokens,
    long totalTokens,
    long requests,
    long costMicros,
    BigDecimal estimatedCost,
    long fallbackPricedRequests) {

  public static final UsageView EMPTY = of(0, 0, 0, 0, 0, 0, 0);

  public static UsageView of(long input, long output, long cacheCreation, long cacheRead, long requests,
      long costMicros, long fallbackPriced) {
    return new UsageView(input, output, cacheCreation, cacheRead, input + output + cacheCreation + cacheRead,
        requests, costMicros, BigDecimal.valueOf(costMicros, 6), fallbackPriced);
  }

  public static UsageView of(UsageTotals t) {
    return of(t.getInputTokens(), t.getOutputTokens(), t.getCacheCreationInputTokens(), t.getCacheReadInputTokens(),
        t.getRequests(), t.getCostMicros(), t.getFallbackPricedRequests());
  }

  public static UsageView of(ModelUsage m) {
    return of(m.getInputTokens(), m.getOutputTokens(), m.getCacheCreationInputTokens(), m.getCacheReadInputTokens(),
        m.getRequests(), m.getCostMicros(), m.getFallbackPricedRequests());
  }

  public UsageView plus(UsageView o) {
    return of(inputTokens + o.inputTokens, outputTokens + o.outputTokens,
        cacheCreationInputTokens + o.cacheCreationInputTokens, cacheReadInputTokens + o.cacheReadInputTokens,
        requests + o.requests, costMicros + o.costMicros, fallbackPricedRequests + o.fallbackPricedRequests);
  }

  /**
   * Writes the fields in declaration order, as Jackson would, without its per-field reflection:
   * an org report grouped by key carries hundreds of thousands of these.
   */
  static final class Writer extends StdSerializer<UsageView> {

    Writer() {
      super(UsageView.class);
    }

    @Override
    public void serialize(UsageView u, JsonGenerator out, SerializerProvider provider) throws IOException {
      out.writeStartObject();
      out.writeNumberField("input_tokens", u.inputTokens);
      out.writeNumberField("output_tokens", u.outputTokens);
      out.writeNumberField("cache_creation_input_tokens", u.cacheCreationInputTokens);
      out.writeNumberField("cache_read_input_tokens", u.cacheReadInputTokens);
      out.writeNumberField("total_tokens", u.totalTokens);
      out.writeNumberField("requests", u.requests);
      out.writeNumberField("cost_micros", u.costMicros);
      out.writeNumberField("estimated_cost", u.estimatedCost);
      out.writeNumberField("fallback_priced_requests", u.fallbackPricedRequests);
      out.writeEndObject();
    }
  }
}
