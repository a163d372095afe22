package dev.metering.api;

import java.util.Locale;

/** Callers' text made safe to show where a control character would act rather than be seen. */
public final class Text {

  private Text() {
  }

  /**
   * {@code value} with each control character written as a {@code \}{@code uXXXX} escape: a line
   * break in a log line would forge another, an escape sequence in a terminal would drive it.
   */
  public static String escapeControls(String value) {
    if (value.chars().noneMatch(Character::isISOControl)) {
      return value;
    }
    StringBuilder shown = new StringBuilder(value.length() + 16);
    value.chars().forEach(c -> {
      if (Character.isISOControl(c)) {
        shown.append(String.format(Locale.ROOT, "\\u%04x", c));
      } else {
        shown.append((char) c);
      }
    });
    return shown.toString();
  }
}
