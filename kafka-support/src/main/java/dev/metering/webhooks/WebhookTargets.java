package dev.metering.webhooks;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import java.io.IOException;
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
 * carrier-grade NAT, link-local, unique-local, multicast or unspecified address, or to an IPv6
 * address that carries one of these IPv4 ones on to a translator or relay, unless the address lies
 * in {@code METERING_WEBHOOK_ALLOWED_NETWORKS} (CIDRs, comma-separated). admin-api checks when a
 * rule is created; alert-service resolves the name once per connection through
 * {@link #permittedAddresses} and connects to exactly the addresses it returned, so a name rebound
 * after the rule was accepted, or between a check and a connect, reaches nothing refused (see
 * docs/design.md, "Webhook secrets and targets").
 */
public final class WebhookTargets {

  private final boolean allowHttp;
  private final List<Network> allowed;
  private final Resolver resolver;

  /** Name resolution: the system's, or in tests a fixed table standing in for DNS. */
  @FunctionalInterface
  public interface Resolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  /** A host whose addresses include one webhooks may not reach; the message says which and why. */
  public static final class Refused extends IOException {
    Refused(String reason) {
      super(reason);
    }
  }

  public WebhookTargets(boolean allowHttp, List<String> allowedNetworks) {
    this(allowHttp, allowedNetworks, InetAddress::getAllByName);
  }

  public WebhookTargets(boolean allowHttp, List<String> allowedNetworks, Resolver resolver) {
    this.allowHttp = allowHttp;
    this.allowed = allowedNetworks.stream().map(Network::parse).toList();
    this.resolver = resolver;
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
   * resolve is refused only when {@code requireResolvable}; at creation it is accepted and checked
   * again when used.
   */
  public Optional<String> problem(String url, boolean requireResolvable) {
    Optional<String> problem = urlProblem(url);
    if (problem.isPresent()) {
      return problem;
    }
    String host = URI.create(url).getHost();
    try {
      permittedAddresses(host);
    } catch (UnknownHostException e) {
      return requireResolvable ? Optional.of("its host " + host + " does not resolve") : Optional.empty();
    } catch (Refused e) {
      return Optional.of(e.getMessage());
    }
    return Optional.empty();
  }

  /** Why {@code url} may not be a webhook target whatever its host resolves to (no lookup), or empty. */
  public Optional<String> urlProblem(String url) {
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
    if (ambiguousNumber(uri.getHost())) {
      return Optional.of("its host " + uri.getHost() + " is an address written with a leading zero or in hex,"
          + " which tools read differently (0177.0.0.1 is 127.0.0.1 to curl, 177.0.0.1 to Java); write it in"
          + " plain decimal");
    }
    return Optional.empty();
  }

  /**
   * Whether {@code host} is an IPv4 address in a spelling other than plain decimal: a number with
   * a leading zero (octal to C's inet_aton, decimal to Java) or in hex. What such a URL reaches
   * depends on who reads it, so it says nothing certain about the target to the tenant or to us.
   */
  private static boolean ambiguousNumber(String host) {
    boolean unusual = false;
    for (String part : host.split("\\.", -1)) {
      if (part.matches("0[xX][0-9a-fA-F]*") || part.matches("0[0-9]+")) {
        unusual = true;
      } else if (!part.matches("[0-9]+")) {
        return false; // a name (or an IPv6 literal), not a number
      }
    }
    return unusual;
  }

  /**
   * The addresses {@code host} resolves to, looked up once: a connection made to these, and only
   * these, reaches what was checked, whatever the name resolves to a moment later.
   *
   * @throws Refused when any of them is one webhooks may not reach
   */
  public List<InetAddress> permittedAddresses(String host) throws UnknownHostException, Refused {
    InetAddress[] addresses = resolver.resolve(host);
    for (InetAddress address : addresses) {
      String kind = restricted(address);
      if (kind != null && allowed.stream().noneMatch(network -> network.contains(address))) {
        throw new Refused("its host resolves to a " + kind + " address (" + address.getHostAddress()
            + "), which webhooks may not reach");
      }
    }
    return List.of(addresses);
  }

  /** The kind of network {@code address} belongs to when webhooks may not reach it, else null. */
  static String restricted(InetAddress address) {
    if (address instanceof Inet6Address v6) {
      String embedded = restrictedInside(v6.getAddress());
      if (embedded != null) {
        return embedded;
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

  /**
   * The kind of a restricted IPv4 address that the IPv6 address {@code b} carries and would reach:
   * mapped (::ffff:0:0/96) and compatible (::/96) addresses, NAT64 (64:ff9b::/96, translated to the
   * IPv4 address by the network's NAT64 gateway; its local-use 64:ff9b:1::/48 places the address
   * where its operator chose, so all of it is refused), 6to4 (2002::/16) and Teredo (2001::/32,
   * the client's address inverted). Null when it carries none, or a public one.
   */
  private static String restrictedInside(byte[] b) {
    if (zeros(b, 0, 10)) {
      boolean mapped = (b[10] & b[11] & 0xff) == 0xff;
      boolean compatible = (b[10] | b[11]) == 0 && !(zeros(b, 12, 15) && (b[15] & 0xfe) == 0); // not :: or ::1
      return mapped || compatible ? v4Kind(b, 12, false, "") : null;
    }
    int word0 = (b[0] & 0xff) << 8 | (b[1] & 0xff);
    int word1 = (b[2] & 0xff) << 8 | (b[3] & 0xff);
    int word2 = (b[4] & 0xff) << 8 | (b[5] & 0xff);
    if (word0 == 0x64 && word1 == 0xff9b && zeros(b, 4, 12)) {
      return v4Kind(b, 12, false, "NAT64-translated ");
    }
    if (word0 == 0x64 && word1 == 0xff9b && word2 == 1) {
      return "NAT64 local-use";
    }
    if (word0 == 0x2002) {
      return v4Kind(b, 2, false, "6to4-relayed ");
    }
    if (word0 == 0x2001 && word1 == 0) {
      return v4Kind(b, 12, true, "Teredo-relayed ");
    }
    return null;
  }

  private static String v4Kind(byte[] b, int from, boolean inverted, String how) {
    byte[] v4 = new byte[4];
    for (int i = 0; i < 4; i++) {
      v4[i] = (byte) (inverted ? ~b[from + i] : b[from + i]);
    }
    try {
      String kind = restricted(InetAddress.getByAddress(v4));
      return kind == null ? null : how + kind;
    } catch (UnknownHostException impossible) {
      return "malformed";
    }
  }

  private static boolean zeros(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
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
