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
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;

/**
 * Email over SMTP (Angus Mail) on its own small thread pool, so slow mail never holds webhooks
 * back. Connection problems and SMTP 4xx replies are retried; 5xx replies and bad addresses fail.
 */
public final class EmailChannel implements Channel {

  private final AlertServiceConfig.Smtp smtp;
  private final Session session;
  private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
    Thread thread = new Thread(r, "email-delivery");
    thread.setDaemon(true);
    return thread;
  });

  public EmailChannel(AlertServiceConfig.Smtp smtp) {
    this.smtp = smtp;
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
  }

  @Override
  public CompletableFuture<Attempt> send(Notification notification) {
    return CompletableFuture.supplyAsync(() -> attempt(notification), executor);
  }

  private Attempt attempt(Notification notification) {
    try {
      MimeMessage message = new MimeMessage(session);
      message.setFrom(new InternetAddress(smtp.from()));
      message.setRecipients(Message.RecipientType.TO, InternetAddress.parse(notification.getTarget(), true));
      message.setSubject(notification.getSubject(), "UTF-8");
      message.setText(notification.getBody(), "UTF-8");
      // the same notification sent twice carries the same id, so mail clients and filters can drop the copy
      message.setHeader("X-Metering-Notification-Id", notification.getId());
      message.saveChanges();
      message.setHeader("Message-ID", "<" + notification.getId() + "@metering>");
      try (Transport transport = session.getTransport()) {
        transport.connect(smtp.host(), smtp.port(), smtp.username().orElse(null), smtp.password().orElse(null));
        transport.sendMessage(message, message.getAllRecipients());
      }
      return new Attempt.Delivered("email accepted by " + smtp.host());
    } catch (AddressException e) {
      return new Attempt.Failed("invalid email address: " + e.getMessage());
    } catch (SMTPSendFailedException e) {
      return e.getReturnCode() >= 400 && e.getReturnCode() < 500
          ? new Attempt.Retry("SMTP " + e.getReturnCode() + ": " + e.getMessage(), Optional.empty())
          : new Attempt.Failed("SMTP " + e.getReturnCode() + ": " + e.getMessage());
    } catch (SendFailedException e) {
      return new Attempt.Failed("rejected by the SMTP server: " + e.getMessage());
    } catch (MessagingException e) {
      boolean io = e.getCause() instanceof IOException || e.getNextException() instanceof IOException;
      return new Attempt.Retry((io ? "cannot reach SMTP server: " : "SMTP error: ") + e.getMessage(), Optional.empty());
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
