package dev.metering.alerts.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.alerts.AlertServiceConfig;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.Notification;
import dev.metering.records.NotificationChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The email channel against a real SMTP server on loopback ({@link SmtpServer}, a minimal one, so
 * a test can count connections and make the server drop one or refuse a command).
 */
class EmailChannelTest {

  private SmtpServer server;
  private EmailChannel channel;

  @AfterEach
  void stop() throws IOException {
    if (channel != null) {
      channel.close();
    }
    server.close();
  }

  @Test
  void shouldSendConsecutiveEmailsOverOneConnection() throws Exception {
    // a connection per email costs a TCP handshake, EHLO, and in production STARTTLS and AUTH
    server = new SmtpServer(messageOnConnection -> false, messageOnConnection -> false);
    channel = new EmailChannel(smtp(server.port()));

    for (int i = 0; i < 20; i++) {
      assertInstanceOf(Attempt.Delivered.class, channel.send(notification("ntf_" + i, "ops@example.com")).get());
    }

    assertEquals(20, server.messages.size());
    assertEquals(1, server.connections.get(), "twenty emails, one after another, over one connection");
  }

  @Test
  void shouldReconnectAtOnceWhenTheServerClosedTheConnectionBetweenEmails() throws Exception {
    // as a server does when a connection has been idle past its timeout
    server = new SmtpServer(messageOnConnection -> messageOnConnection >= 1, messageOnConnection -> false);
    channel = new EmailChannel(smtp(server.port()));

    for (int i = 0; i < 3; i++) {
      Attempt attempt = channel.send(notification("ntf_" + i, "ops@example.com")).get();
      assertInstanceOf(Attempt.Delivered.class, attempt, attempt.detail());
    }

    assertEquals(List.of("ntf_0", "ntf_1", "ntf_2"), server.messages);
    assertEquals(3, server.connections.get());
  }

  @Test
  void shouldReconnectAtOnceWhenTheServerIsClosingTheConnection() throws Exception {
    // 421: the server is closing the channel (shutting down, or too many messages on one connection)
    server = new SmtpServer(messageOnConnection -> false, messageOnConnection -> messageOnConnection >= 2);
    channel = new EmailChannel(smtp(server.port()));

    for (int i = 0; i < 5; i++) {
      Attempt attempt = channel.send(notification("ntf_" + i, "ops@example.com")).get();
      assertInstanceOf(Attempt.Delivered.class, attempt, attempt.detail());
    }

    assertEquals(List.of("ntf_0", "ntf_1", "ntf_2", "ntf_3", "ntf_4"), server.messages);
    assertEquals(3, server.connections.get(), "two emails per connection, then 421 and a new one");
  }

  @Test
  void shouldRetryLaterWhenANewConnectionIsClosedToo() throws Exception {
    // a server that drops every connection before an email: a fresh connection failing is not stale
    server = new SmtpServer(messageOnConnection -> true, messageOnConnection -> false);
    channel = new EmailChannel(smtp(server.port()));

    Attempt attempt = channel.send(notification("ntf_0", "ops@example.com")).get();

    Attempt.Retry retry = assertInstanceOf(Attempt.Retry.class, attempt);
    assertTrue(retry.detail().contains("SMTP"), retry.detail());
    assertEquals(List.of(), server.messages);
    assertEquals(1, server.connections.get(), "one connection, not a loop of reconnects");
  }

  @Test
  void shouldFailARejectedRecipientAndKeepSendingTheOthers() throws Exception {
    server = new SmtpServer(messageOnConnection -> false, messageOnConnection -> false);
    channel = new EmailChannel(smtp(server.port()));

    Attempt rejected = channel.send(notification("ntf_0", "nobody@rejected.example")).get();
    Attempt next = channel.send(notification("ntf_1", "ops@example.com")).get();

    Attempt.Failed failed = assertInstanceOf(Attempt.Failed.class, rejected);
    assertTrue(failed.detail().contains("550") || failed.detail().contains("rejected"), failed.detail());
    assertInstanceOf(Attempt.Delivered.class, next, next.detail());
    assertEquals(List.of("ntf_1"), server.messages);
  }

  @Test
  void shouldCloseAConnectionKeptPastTheIdleLimitAndOpenANewOne() throws Exception {
    server = new SmtpServer(messageOnConnection -> false, messageOnConnection -> false);
    channel = new EmailChannel(smtp(server.port()), Duration.ZERO);

    for (int i = 0; i < 3; i++) {
      assertInstanceOf(Attempt.Delivered.class, channel.send(notification("ntf_" + i, "ops@example.com")).get());
    }

    assertEquals(3, server.connections.get());
    KafkaTestSupport.await("all three connections, each idle past the limit, said QUIT", Duration.ofSeconds(5),
        () -> server.quits.get() == 3);
  }

  @Test
  void shouldCloseAConnectionLeftIdleWithoutWaitingForAnotherEmail() throws Exception {
    server = new SmtpServer(messageOnConnection -> false, messageOnConnection -> false);
    channel = new EmailChannel(smtp(server.port()), Duration.ofSeconds(1));

    assertInstanceOf(Attempt.Delivered.class, channel.send(notification("ntf_1", "ops@example.com")).get());
    assertEquals(0, server.quits.get(), "kept for the next email");
    KafkaTestSupport.await("the connection left idle said QUIT", Duration.ofSeconds(10),
        () -> server.quits.get() == 1);

    assertInstanceOf(Attempt.Delivered.class, channel.send(notification("ntf_2", "ops@example.com")).get());
    assertEquals(2, server.connections.get(), "the next email over a new connection");
    assertEquals(List.of("ntf_1", "ntf_2"), server.messages);
  }

  @Test
  void shouldCloseKeptConnectionsWhenClosed() throws Exception {
    server = new SmtpServer(messageOnConnection -> false, messageOnConnection -> false);
    channel = new EmailChannel(smtp(server.port()), Duration.ofMinutes(1));

    assertInstanceOf(Attempt.Delivered.class, channel.send(notification("ntf_1", "ops@example.com")).get());
    channel.close();

    KafkaTestSupport.await("closing the channel closed the kept connection", Duration.ofSeconds(5),
        () -> server.quits.get() == 1);
  }

  @Test
  void shouldRetryWhenNoServerListens() throws Exception {
    server = new SmtpServer(messageOnConnection -> false, messageOnConnection -> false);
    int port = server.port();
    server.close();
    channel = new EmailChannel(smtp(port));

    Attempt attempt = channel.send(notification("ntf_0", "ops@example.com")).get();

    Attempt.Retry retry = assertInstanceOf(Attempt.Retry.class, attempt);
    assertTrue(retry.detail().startsWith("cannot reach SMTP server"), retry.detail());
  }

  private static AlertServiceConfig.Smtp smtp(int port) {
    return new AlertServiceConfig.Smtp("127.0.0.1", port, "none", Optional.empty(), Optional.empty(),
        "metering@example.com");
  }

  private static Notification notification(String id, String to) {
    return Notification.newBuilder().setId(id).setOrgId("org-1").setApiKeyId("key-1")
        .setChannel(NotificationChannel.EMAIL).setTarget(to).setSubject("s").setBody("b")
        .setCause("test").setCreatedAt(0L).setSigningKey(null).build();
  }

  /**
   * Enough of SMTP for Angus Mail. {@code dropBefore} and
   * {@code refuseBefore} are asked, before each MAIL FROM with the number of emails this
   * connection has carried, whether to close the socket without a word or to answer 421 and close.
   * Recipients at rejected.example get 550. The notification ids of the emails accepted are kept.
   */
  private static final class SmtpServer implements AutoCloseable {

    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger quits = new AtomicInteger();
    final List<String> messages = new CopyOnWriteArrayList<>();
    private final ServerSocket socket;

    SmtpServer(IntPredicate dropBefore, IntPredicate refuseBefore) throws IOException {
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread acceptor = new Thread(() -> {
        while (!socket.isClosed()) {
          try {
            Socket client = socket.accept();
            connections.incrementAndGet();
            Thread conversation = new Thread(() -> {
              try (client) {
                converse(client, dropBefore, refuseBefore);
              } catch (IOException dropped) {
                // the client went away
              }
            }, "test-smtp-connection");
            conversation.setDaemon(true);
            conversation.start();
          } catch (IOException closed) {
            // the end
          }
        }
      }, "test-smtp-server");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    private void converse(Socket client, IntPredicate dropBefore, IntPredicate refuseBefore) throws IOException {
      BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII));
      OutputStream out = client.getOutputStream();
      reply(out, "220 test ESMTP");
      int carried = 0;
      String line;
      while ((line = in.readLine()) != null) {
        String command = line.length() < 4 ? line : line.substring(0, 4).toUpperCase(java.util.Locale.ROOT);
        switch (command) {
          case "MAIL" -> {
            if (dropBefore.test(carried)) {
              return;
            }
            if (refuseBefore.test(carried)) {
              reply(out, "421 closing transmission channel");
              return;
            }
            reply(out, "250 ok");
          }
          case "RCPT" -> reply(out, line.contains("rejected.example") ? "550 no such user" : "250 ok");
          case "DATA" -> {
            reply(out, "354 go on");
            String id = null;
            while (!(line = in.readLine()).equals(".")) {
              if (line.startsWith("X-Metering-Notification-Id: ")) {
                id = line.substring("X-Metering-Notification-Id: ".length());
              }
            }
            messages.add(id);
            carried++;
            reply(out, "250 accepted");
          }
          case "QUIT" -> {
            quits.incrementAndGet();
            reply(out, "221 bye");
            return;
          }
          default -> reply(out, "250 ok"); // EHLO, HELO, RSET, NOOP
        }
      }
    }

    private static void reply(OutputStream out, String line) throws IOException {
      out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
