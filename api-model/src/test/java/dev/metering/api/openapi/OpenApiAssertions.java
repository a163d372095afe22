package dev.metering.api.openapi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What a document served here must be for a client to be generated from it. */
public final class OpenApiAssertions {

  private OpenApiAssertions() {
  }

  /**
   * Parses {@code document} with swagger-parser, resolving every reference, and fails on any
   * message of the parser or unless: there is a server; every operation has a unique
   * operationId, a summary, a declared tag and security scheme, a 2xx response with a JSON schema;
   * every parameter and request body has a schema; every error response has one too.
   */
  public static OpenAPI assertClientReady(String document) {
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(document, null, options);
    assertEquals(List.of(), parsed.getMessages(), "the parser's messages");
    OpenAPI api = parsed.getOpenAPI();
    List<String> problems = new ArrayList<>();
    if (api.getServers() == null || api.getServers().isEmpty()) {
      problems.add("no servers");
    }
    Set<String> tags = new HashSet<>();
    if (api.getTags() != null) {
      api.getTags().forEach(tag -> tags.add(tag.getName()));
    }
    Set<String> schemes = api.getComponents().getSecuritySchemes().keySet();
    Set<String> ids = new HashSet<>();
    for (Map.Entry<String, PathItem> path : api.getPaths().entrySet()) {
      for (Map.Entry<PathItem.HttpMethod, Operation> entry : path.getValue().readOperationsMap().entrySet()) {
        Operation op = entry.getValue();
        String where = entry.getKey() + " " + path.getKey();
        if (op.getOperationId() == null || !ids.add(op.getOperationId())) {
          problems.add(where + ": no operationId, or one used twice: " + op.getOperationId());
        }
        if (op.getSummary() == null || op.getSummary().isBlank()) {
          problems.add(where + ": no summary");
        }
        if (op.getTags() == null || !tags.containsAll(op.getTags())) {
          problems.add(where + ": a tag not declared: " + op.getTags());
        }
        if (op.getSecurity() == null || op.getSecurity().isEmpty()
            || !op.getSecurity().stream().allMatch(requirement -> schemes.containsAll(requirement.keySet()))) {
          problems.add(where + ": no security, or an undeclared scheme");
        }
        if (op.getParameters() != null) {
          op.getParameters().stream().filter(p -> p.getSchema() == null)
              .forEach(p -> problems.add(where + ": parameter " + p.getName() + " without a schema"));
        }
        if (op.getRequestBody() != null && schema(op.getRequestBody().getContent()) == null) {
          problems.add(where + ": a request body without a schema");
        }
        boolean success = false;
        for (Map.Entry<String, ApiResponse> response : op.getResponses().entrySet()) {
          ApiResponse answer = response.getValue();
          if (answer.get$ref() != null) {
            answer = api.getComponents().getResponses().get(answer.get$ref().substring(answer.get$ref().lastIndexOf('/') + 1));
          }
          if (answer == null || schema(answer.getContent()) == null) {
            problems.add(where + ": response " + response.getKey() + " without a JSON schema");
          }
          success |= response.getKey().startsWith("2");
        }
        if (!success) {
          problems.add(where + ": no 2xx response");
        }
      }
    }
    assertEquals(List.of(), problems);
    return api;
  }

  private static Object schema(io.swagger.v3.oas.models.media.Content content) {
    if (content == null) {
      return null;
    }
    MediaType json = content.get("application/json");
    return json == null ? null : json.getSchema();
  }
}
