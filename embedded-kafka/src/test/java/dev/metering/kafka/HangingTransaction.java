package dev.metering.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;

/**
 * Makes a hanging transaction, as a broker restart left them in BrokerRestartIT: records of a
 * transaction on a partition that no coordinator tracks, so nothing ever ends it. Written straight
 * to the partition for a producer no coordinator knows, with a produce request of the version
 * before transactions v2, which a broker started with {@link #BROKER_CONFIG} takes without asking
 * any coordinator.
 */
public final class HangingTransaction {

  /** A broker that appends transactional records without checking them with their coordinator. */
  public static final Map<String, String> BROKER_CONFIG = Map.of("transaction.partition.verification.enable", "false");

  private static final short PRODUCE_VERSION = ProduceRequest.LAST_STABLE_VERSION_BEFORE_TRANSACTION_V2;

  private HangingTransaction() {
  }

  /**
   * Appends one record of an open transaction of {@code producerId} (epoch 0) to {@code partition},
   * trying again while the broker answers with a retriable error: a topic just created may not be
   * on the broker yet (UNKNOWN_TOPIC_OR_PARTITION), which is what a producer would retry too.
   */
  public static void write(String bootstrap, TopicPartition partition, long producerId)
      throws IOException, InterruptedException {
    Errors[] answer = new Errors[1];
    KafkaTestSupport.await("an answer to the batch other than a retriable error", Duration.ofSeconds(30), () -> {
      try {
        answer[0] = append(bootstrap, partition, producerId);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return !(answer[0].exception() instanceof RetriableException);
    });
    assertEquals(Errors.NONE, answer[0], "the broker took the batch");
  }

  private static Errors append(String bootstrap, TopicPartition partition, long producerId) throws IOException {
    MemoryRecords records = MemoryRecords.withTransactionalRecords(Compression.NONE, producerId, (short) 0, 0,
        new SimpleRecord(System.currentTimeMillis(), "hanging".getBytes(StandardCharsets.UTF_8),
            "hanging".getBytes(StandardCharsets.UTF_8)));
    ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
    topics.add(new ProduceRequestData.TopicProduceData().setName(partition.topic()).setPartitionData(List.of(
        new ProduceRequestData.PartitionProduceData().setIndex(partition.partition()).setRecords(records))));
    ProduceRequest request = new ProduceRequest.Builder(PRODUCE_VERSION, PRODUCE_VERSION, new ProduceRequestData()
        .setAcks((short) -1).setTimeoutMs(10_000).setTransactionalId("never-initialised").setTopicData(topics))
        .build(PRODUCE_VERSION);
    ByteBuffer bytes = request.serializeWithHeader(new RequestHeader(ApiKeys.PRODUCE, PRODUCE_VERSION,
        "hanging-transaction", 1));
    String[] hostPort = bootstrap.split(",")[0].split(":");
    try (Socket socket = new Socket(hostPort[0], Integer.parseInt(hostPort[1]))) {
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeInt(bytes.remaining());
      out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
      out.flush();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      byte[] response = new byte[in.readInt()];
      in.readFully(response);
      ByteBuffer buffer = ByteBuffer.wrap(response);
      ResponseHeader.parse(buffer, ApiKeys.PRODUCE.responseHeaderVersion(PRODUCE_VERSION));
      return Errors.forCode(ProduceResponse.parse(new ByteBufferAccessor(buffer), PRODUCE_VERSION).data().responses()
          .iterator().next().partitionResponses().get(0).errorCode());
    }
  }
}
