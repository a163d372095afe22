package dev.metering.stream.query;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metering.api.openapi.OpenApiAssertions;
import dev.metering.json.Json;
import io.swagger.v3.oas.models.OpenAPI;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class QueryRouteTest {

  @Test
  void theQueryApisDocumentIsOneAClientCanBeGeneratedFromAndHasEveryRoute() throws Exception {
    OpenAPI api = OpenApiAssertions.assertClientReady(Json.mapper().writeValueAsString(QueryRoute.document()));
    assertEquals(QueryRoute.values().length, api.getPaths().size());
    for (QueryRoute route : QueryRoute.values()) {
      assertEquals(route.operation().operationId(),
          api.getPaths().get(route.operation().path()).getGet().getOperationId());
    }
    assertEquals(Arrays.asList("api_key_id", "model"), api.getPaths().get("/v1/orgs/{org_id}/usage_report").getGet()
        .getParameters().stream().filter(p -> p.getName().equals("group_by")).findFirst().orElseThrow()
        .getSchema().getEnum());
  }
}
