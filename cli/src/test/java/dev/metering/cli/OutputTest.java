package dev.metering.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutputTest {

  @Test
  void shouldQuoteCsvCellsAndDisarmFormulasButNotNumbers() {
    assertEquals("plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"",
        Output.csvLine(List.of("plain", "a,b", "say \"hi\"", "two\nlines")));
    assertEquals("\"'=HYPERLINK(\"\"x\"\")\",'@SUM(A1),-12,+3.5,'-x",
        Output.csvLine(List.of("=HYPERLINK(\"x\")", "@SUM(A1)", "-12", "+3.5", "-x")));
  }

  @Test
  void shouldFlattenNestedFieldsIntoDottedColumnsForCsv() {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("starting_at", "2026-11-30T00:00:00Z");
    row.put("usage", Map.of("total_tokens", 1200));
    row.put("permissions", List.of("messages:read", "messages:write"));
    row.put("description", null);
    StringWriter text = new StringWriter();
    new Output(Output.Format.csv, new PrintWriter(text)).many(List.of(row), List.of());
    assertEquals("starting_at,usage.total_tokens,permissions,description\n"
        + "2026-11-30T00:00:00Z,1200,\"messages:read,messages:write\",\n", text.toString().replace("\r\n", "\n"));
  }

  @Test
  void shouldPrintATableOfTheChosenColumnsAligned() {
    StringWriter text = new StringWriter();
    new Output(Output.Format.table, new PrintWriter(text)).many(List.of(Map.of("id", "k1", "name", "a long name",
        "secret", "x"), Map.of("id", "key-2", "name", "b", "secret", "y")), List.of("id", "name"));
    assertEquals("ID     NAME\nk1     a long name\nkey-2  b\n", text.toString().replace("\r\n", "\n"));
  }

  @Test
  void shouldShowControlCharactersInATableAsEscapesNotSendThemToTheTerminal() {
    // a model name as a gateway's caller may have sent it: clear the screen, set the window title
    assertEquals("\\u001b[2Jmodel\\u001b]0;owned\\u0007 on one line \\u009b1m",
        Output.cut("\u001b[2Jmodel\u001b]0;owned\u0007 on\none\rline\t\u009b1m"));
  }

  @Test
  void shouldShowBidirectionalControlsInATableAsEscapesNotLetThemReorderTheLine() {
    // a key name whose right-to-left override made the rest of its row read backwards
    assertEquals("ci \\u202eyek-dorp\\u202c \\u2066x\\u2069 \\u200f \u05e9\u05dc\u05d5\u05dd",
        Output.cut("ci \u202eyek-dorp\u202c \u2066x\u2069 \u200f \u05e9\u05dc\u05d5\u05dd"));
  }

  @Test
  void shouldPrintTheHeaderAloneWhenThereIsNothing() {
    StringWriter table = new StringWriter();
    new Output(Output.Format.table, new PrintWriter(table)).many(List.of(), List.of("day", "reason", "count"));
    assertEquals("DAY  REASON  COUNT\n", table.toString().replace("\r\n", "\n"));
    StringWriter csv = new StringWriter();
    new Output(Output.Format.csv, new PrintWriter(csv)).many(List.of(), List.of("day", "reason", "count"));
    assertEquals("day,reason,count\n", csv.toString().replace("\r\n", "\n"));
  }
}
