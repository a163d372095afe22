package dev.metering.alerts.delivery;

import dev.metering.alerts.AlertServiceConfig;
import dev.metering.records.Notification;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;

/**
 * Email over SMTP (Angus Mail) on its own small thread pool, so slow mail never holds webhooks
 * back. Connections are kept between emails (a new one costs a TCP handshake, EHLO, and STARTTLS
 * and AUTH where configured), closed after {@link #IDLE_LIMIT} unused, whether or not another
 * email comes; when the server has closed a kept one, the email goes at once over a new
 * connection. Connection problems and SMTP 4xx replies are retried; 5xx replies and bad addresses
 * fail.
 */
public final class EmailChannel implements Channel {

  /** Below the 5 minutes RFC 5321 asks servers to wait, and the shorter timeouts some relays use. */
  static final Duration IDLE_LIMIT = Duration.ofSeconds(30);
  /** How often idle connections are looked at, at the most: half the idle limit otherwise. */
  private static final Duration MIN_SWEEP_INTERVAL = Duration.ofMillis(100);

  private final AlertServiceConfig.Smtp smtp;
  private final long idleLimitNanos;
  private final Session session;
  /** Deliveries, and the sweep that closes connections left idle past the limit. */
  private final ScheduledExecutorService executor = Executors.newScheduledThreadPool(2, r -> {
    Thread thread = new Thread(r, "email-delivery");
    thread.setDaemon(true);
    return thread;
  });
  /** Connections not in use, the most recently used first; guarded by itself. */
  private final Deque<Kept> idle = new ArrayDeque<>();
  private boolean closed;

  private record Kept(Transport transport, long releasedAtNanos) {
  }

  public EmailChannel(AlertServiceConfig.Smtp smtp) {
    this(smtp, IDLE_LIMIT);
  }

  EmailChannel(AlertServiceConfig.Smtp smtp, Duration idleLimit) {
    this.smtp = smtp;
    this.idleLimitNanos = idleLimit.toNanos();
    Properties props = new Properties();
    String prefix = smtp.security().equals("ssl") ? "mail.smtps." : "mail.smtp.";
    props.put("mail.transport.protocol", smtp.security().equals("ssl") ? "smtps" : "smtp");
    props.put(prefix + "host", smtp.host());
    props.put(prefix + "port", Integer.toString(smtp.port()));
    props.put(prefix + "connectiontimeout", "10000");
    props.put(prefix + "timeout", "10000");
    props.put(prefix + "writetimeout", "10000");
    props.put(prefix + "auth", Boolean.toString(smtp.username().isPresent()));
    if (smtp.security().equals("starttls")) {
      props.put("mail.smtp.starttls.enable", "true");
      props.put("mail.smtp.starttls.required", "true");
    }
    this.session = Session.getInstance(props);
    long sweepNanos = Math.max(idleLimitNanos / 2, MIN_SWEEP_INTERVAL.toNanos());
    executor.scheduleWithFixedDelay(this::closeIdle, sweepNanos, sweepNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public CompletableFuture<Attempt> send(Notification notification) {
    return CompletableFuture.supplyAsync(() -> attempt(notification), executor);
  }

  private Attempt attempt(Notification notification) {
    MimeMessage message;
    try {
      message = message(notification);
    } catch (MessagingException e) {
      return outcome(e);
    }
    Transport kept = take();
    if (kept != null) {
      try {
        return sent(kept, message);
      } catch (MessagingException | IllegalStateException e) {
        discard(kept);
        if (!connectionLost(e)) {
          return outcome(e);
        }
        // the server closed it while it was kept (idle timeout, restart, a cap on emails per connection)
      }
    }
    Transport fresh = null;
    try {
      fresh = session.getTransport();
      fresh.connect(smtp.host(), smtp.port(), smtp.username().orElse(null), smtp.password().orElse(null));
      return sent(fresh, message);
    } catch (MessagingException | IllegalStateException e) {
      discard(fresh);
      return outcome(e);
    }
  }

  private MimeMessage message(Notification notification) throws MessagingException {
    MimeMessage message = new MimeMessage(session);
    message.setFrom(new InternetAddress(smtp.from()));
    message.setRecipients(Message.RecipientType.TO, InternetAddress.parse(notification.getTarget(), true));
    message.setSubject(notification.getSubject(), "UTF-8");
    message.setText(notification.getBody(), "UTF-8");
    // the same notification sent twice carries the same id, so mail clients and filters can drop the copy
    message.setHeader("X-Metering-Notification-Id", notification.getId());
    message.saveChanges();
    message.setHeader("Message-ID", "<" + notification.getId() + "@metering>");
    return message;
  }

  /** Sends over {@code transport} and keeps it for the next email; throws, leaving it to the caller, if not sent. */
  private Attempt sent(Transport transport, MimeMessage message) throws MessagingException {
    transport.sendMessage(message, message.getAllRecipients());
    release(transport);
    return new Attempt.Delivered("email accepted by " + smtp.host());
  }

  /** What an email that was not sent comes to: worth retrying later, or failed for good. */
  private Attempt outcome(Exception e) {
    if (e instanceof AddressException) {
      return new Attempt.Failed("invalid email address: " + e.getMessage());
    }
    int code = replyCode(e);
    if (code >= 500) {
      return new Attempt.Failed("SMTP " + code + (e instanceof SMTPSendFailedException ? ": " : ", rejected by the SMTP"
          + " server: ") + e.getMessage());
    }
    if (code >= 400) {
      return new Attempt.Retry("SMTP " + code + ": " + e.getMessage(), Optional.empty());
    }
    if (code < 0) {
      return new Attempt.Retry("SMTP server closed the connection: " + e.getMessage(), Optional.empty());
    }
    if (e instanceof SendFailedException) {
      return new Attempt.Failed("rejected by the SMTP server: " + e.getMessage());
    }
    return new Attempt.Retry((causedByIo(e) ? "cannot reach SMTP server: " : "SMTP error: ") + e.getMessage(),
        Optional.empty());
  }

  /** Whether a kept connection is gone, rather than the email refused: then a new one is tried at once. */
  private static boolean connectionLost(Exception e) {
    int code = replyCode(e);
    return e instanceof IllegalStateException || causedByIo(e) || code < 0 || code == 421;
  }

  /**
   * The server's reply code behind a failed send: the command's own, or a refused recipient's;
   * -1 when the server closed the connection instead of replying, 0 when there was no reply.
   */
  private static int replyCode(Exception e) {
    for (Exception next = e; next != null; next = next instanceof MessagingException m ? m.getNextException() : null) {
      if (next instanceof SMTPSendFailedException failed) {
        return failed.getReturnCode();
      }
      if (next instanceof SMTPAddressFailedException refused) {
        return refused.getReturnCode();
      }
    }
    return 0;
  }

  private static boolean causedByIo(Exception e) {
    for (Throwable cause = e; cause != null; cause = cause instanceof MessagingException m && m.getNextException() != null
        ? m.getNextException() : cause.getCause()) {
      if (cause instanceof IOException) {
        return true;
      }
    }
    return false;
  }

  /** A kept connection used within the idle limit, or null; older ones are closed. */
  private Transport take() {
    closeIdle();
    synchronized (idle) {
      Kept kept = idle.pollFirst();
      return kept == null ? null : kept.transport();
    }
  }

  /** Closes (QUIT) the kept connections unused for the idle limit or longer: the least recently used, at the end. */
  private void closeIdle() {
    Deque<Kept> stale = new ArrayDeque<>();
    long now = System.nanoTime();
    synchronized (idle) {
      while (!idle.isEmpty() && now - idle.peekLast().releasedAtNanos() >= idleLimitNanos) {
        stale.add(idle.pollLast());
      }
    }
    stale.forEach(k -> discard(k.transport()));
  }

  private void release(Transport transport) {
    synchronized (idle) {
      if (!closed) {
        idle.addFirst(new Kept(transport, System.nanoTime()));
        return;
      }
    }
    discard(transport);
  }

  private static void discard(Transport transport) {
    if (transport == null) {
      return;
    }
    try {
      transport.close();
    } catch (MessagingException | RuntimeException e) {
      // it was already gone
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
    Deque<Kept> open;
    synchronized (idle) {
      closed = true;
      open = new ArrayDeque<>(idle);
      idle.clear();
    }
    open.forEach(k -> discard(k.transport()));
  }
}
