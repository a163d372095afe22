package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** A new API key. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CreateApiKey(
    @JsonProperty(required = true) @JsonPropertyDescription("at most 256 characters; an email for admin keys")
    String name,
    String description,
    @JsonPropertyDescription("messages:read, messages:write, admin; default messages:read and messages:write")
    List<String> permissions,
    @JsonPropertyDescription("tokens per calendar month (UTC); absent for no limit") Long maxTokensPerMonth,
    @JsonPropertyDescription("estimated cost per calendar month (UTC) in dollars, a decimal string such as \"12.50\";"
        + " absent for no limit") String maxCostPerMonth,
    @JsonPropertyDescription("suspend the key when a limit (whichever is reached first) is reached; default false")
    Boolean hardLimit) {

  public static CreateApiKey named(String name) {
    return new CreateApiKey(name, null, null, null, null, null);
  }

  public CreateApiKey description(String value) {
    return new CreateApiKey(name, value, permissions, maxTokensPerMonth, maxCostPerMonth, hardLimit);
  }

  public CreateApiKey permissions(String... value) {
    return new CreateApiKey(name, description, List.of(value), maxTokensPerMonth, maxCostPerMonth, hardLimit);
  }

  public CreateApiKey maxTokensPerMonth(Long value) {
    return new CreateApiKey(name, description, permissions, value, maxCostPerMonth, hardLimit);
  }

  /** Dollars, a decimal string such as "12.50". */
  public CreateApiKey maxCostPerMonth(String value) {
    return new CreateApiKey(name, description, permissions, maxTokensPerMonth, value, hardLimit);
  }

  public CreateApiKey hardLimit(boolean value) {
    return new CreateApiKey(name, description, permissions, maxTokensPerMonth, maxCostPerMonth, value);
  }
}
