package dev.metering.webhooks;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where webhooks may go. A webhook URL is chosen by a tenant, and its delivery outcome lands in
 * the tenant's audit log, so an unguarded one probes the operator's network (cloud metadata at
 * 169.254.169.254, admin ports on loopback, private services). Refused: non-https URLs (unless
 * {@code METERING_WEBHOOK_ALLOW_HTTP}), and hosts that resolve to a loopback, private,
 * carrier-grade NAT, link-local, unique-local, multicast or unspecified address, unless the
 * address lies in {@code METERING_WEBHOOK_ALLOWED_NETWORKS} (CIDRs, comma-separated). admin-api
 * checks when a rule is created; alert-service checks again on every attempt, on the addresses
 * the name resolves to then (a name may be rebound after the rule was accepted). The JVM caches
 * a lookup for 30 seconds, so the connection that follows the check uses the address checked.
 */
public final class WebhookTargets {

  private final boolean allowHttp;
  private final List<Network> allowed;

  public WebhookTargets(boolean allowHttp, List<String> allowedNetworks) {
    this.allowHttp = allowHttp;
    this.allowed = allowedNetworks.stream().map(Network::parse).toList();
  }

  public static WebhookTargets from(Env env) {
    List<String> networks = new ArrayList<>();
    for (String cidr : env.string("METERING_WEBHOOK_ALLOWED_NETWORKS", "").split(",")) {
      if (!cidr.isBlank()) {
        networks.add(cidr.strip());
      }
    }
    try {
      return new WebhookTargets(env.bool("METERING_WEBHOOK_ALLOW_HTTP", false), networks);
    } catch (IllegalArgumentException e) {
      throw new InvalidConfigException("METERING_WEBHOOK_ALLOWED_NETWORKS", String.join(",", networks),
          "comma-separated CIDRs such as 10.1.0.0/16 (" + e.getMessage() + ")");
    }
  }

  /**
   * Why {@code url} may not be a webhook target, or empty when it may. A host that does not
   * resolve is refused only when {@code requireResolvable} (at send time); at creation it is
   * accepted and checked again when used.
   */
  public Optional<String> problem(String url, boolean requireResolvable) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      return Optional.of("it is not a URL");
    }
    if (uri.getHost() == null) {
      return Optional.of("it has no host");
    }
    if (!"https".equals(uri.getScheme()) && !(allowHttp && "http".equals(uri.getScheme()))) {
      return Optional.of(allowHttp ? "it must be an http or https URL" : "it must be an https URL");
    }
    if (uri.getUserInfo() != null) {
      return Optional.of("it must not carry credentials before the host");
    }
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(uri.getHost());
    } catch (UnknownHostException e) {
      return requireResolvable ? Optional.of("its host " + uri.getHost() + " does not resolve") : Optional.empty();
    }
    for (InetAddress address : addresses) {
      String kind = restricted(address);
      if (kind != null && allowed.stream().noneMatch(network -> network.contains(address))) {
        return Optional.of("its host resolves to a " + kind + " address (" + address.getHostAddress()
            + "), which webhooks may not reach");
      }
    }
    return Optional.empty();
  }

  /** The kind of network {@code address} belongs to when webhooks may not reach it, else null. */
  static String restricted(InetAddress address) {
    if (address instanceof Inet6Address v6 && v6.getAddress()[0] == 0 && isMappedV4(v6.getAddress())) {
      byte[] b = v6.getAddress();
      try {
        return restricted(InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}));
      } catch (UnknownHostException impossible) {
        return "malformed";
      }
    }
    if (address.isAnyLocalAddress()) {
      return "unspecified";
    }
    if (address.isLoopbackAddress()) {
      return "loopback";
    }
    if (address.isLinkLocalAddress()) {
      return "link-local";
    }
    if (address.isSiteLocalAddress()) {
      return "private";
    }
    if (address.isMulticastAddress()) {
      return "multicast";
    }
    byte[] b = address.getAddress();
    if (address instanceof Inet4Address) {
      int first = b[0] & 0xff;
      int second = b[1] & 0xff;
      if (first == 0) {
        return "unspecified";
      }
      if (first == 100 && second >= 64 && second < 128) {
        return "carrier-grade NAT";
      }
      if (first == 198 && (second == 18 || second == 19)) {
        return "benchmarking";
      }
      if (first >= 240) {
        return "reserved";
      }
    } else if ((b[0] & 0xfe) == 0xfc) {
      return "unique-local";
    }
    return null;
  }

  private static boolean isMappedV4(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
  }

  /** An address range in CIDR notation. */
  record Network(byte[] prefix, int bits) {
    static Network parse(String cidr) {
      String[] parts = cidr.split("/", 2);
      if (!parts[0].matches("[0-9a-fA-F:.]+")) {
        throw new IllegalArgumentException("bad network " + cidr); // an address, never a name to look up
      }
      try {
        byte[] address = InetAddress.getByName(parts[0]).getAddress();
        int bits = parts.length == 2 ? Integer.parseInt(parts[1]) : address.length * 8;
        if (bits < 0 || bits > address.length * 8) {
          throw new IllegalArgumentException("bad network " + cidr);
        }
        return new Network(address, bits);
      } catch (UnknownHostException | NumberFormatException e) {
        throw new IllegalArgumentException("bad network " + cidr);
      }
    }

    boolean contains(InetAddress address) {
      byte[] b = address.getAddress();
      if (b.length != prefix.length) {
        return false;
      }
      for (int i = 0; i < bits; i++) {
        int mask = 0x80 >> (i % 8);
        if ((b[i / 8] & mask) != (prefix[i / 8] & mask)) {
          return false;
        }
      }
      return true;
    }
  }
}
