package dev.metering.http;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.MethodNotAllowedResponse;

/**
 * Javalin's own refusals, said the same way by every server: a path no route has is {@code 404};
 * a path a route has, asked with a method it does not take (a {@code DELETE} of the audit log), is
 * {@code 405} with an {@code Allow} header naming the methods it takes, rather than a {@code 404}
 * that reads as if the path did not exist.
 */
public final class Refusals {

  private Refusals() {
  }

  /** Makes the server answer a method its path does not take with 405. */
  public static void install(JavalinConfig config) {
    config.http.prefer405over404 = true;
  }

  /** The message for one of Javalin's refusals; on a 405 it also sets {@code Allow}. */
  public static String describe(HttpResponseException e, Context ctx) {
    if (e instanceof MethodNotAllowedResponse) {
      // Javalin lists the methods under one detail, its name depending on the Accept header
      String allowed = e.getDetails().values().stream().findFirst().orElse("");
      ctx.header("Allow", allowed);
      return ctx.method() + " is not allowed on " + ctx.path() + "; it takes " + allowed;
    }
    if (e.getStatus() == 404) {
      return "no such endpoint: " + ctx.method() + " " + ctx.path();
    }
    return e.getMessage();
  }
}
