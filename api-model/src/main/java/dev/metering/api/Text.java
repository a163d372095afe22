package dev.metering.api;

import java.util.Locale;

/** Callers' text made safe to show where a control character would act rather than be seen. */
public final class Text {

  private Text() {
  }

  /**
   * {@code value} with each control character written as a {@code \}{@code uXXXX} escape: a line
   * break in a log line would forge another, an escape sequence in a terminal would drive it, and a
   * bidirectional control (an override, an isolate, a mark) would reorder how the rest of its line
   * reads, as in a key name that shows one id while holding another.
   */
  public static String escapeControls(String value) {
    if (value.chars().noneMatch(Text::acts)) {
      return value;
    }
    StringBuilder shown = new StringBuilder(value.length() + 16);
    value.chars().forEach(c -> {
      if (acts(c)) {
        shown.append(String.format(Locale.ROOT, "\\u%04x", c));
      } else {
        shown.append((char) c);
      }
    });
    return shown.toString();
  }

  /** A control character, or a bidirectional control: one that acts on what is shown after it. */
  private static boolean acts(int c) {
    return Character.isISOControl(c) || c == 0x061C || c == 0x200E || c == 0x200F
        || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
  }
}
