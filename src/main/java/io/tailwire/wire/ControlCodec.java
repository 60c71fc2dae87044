package io.tailwire.wire;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;

import io.tailwire.proto.Close;
import io.tailwire.proto.Hello;
import io.tailwire.proto.LossReport;
import io.tailwire.proto.Retry;
import io.tailwire.proto.StreamClose;
import io.tailwire.proto.StreamClosed;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamReply;
import io.tailwire.proto.Welcome;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Control datagrams: the common header followed by a protobuf body (wire-spec.md sections 2, 3, 6).
 * Control traffic is rare, so this allocates freely; it still never throws on garbage.
 */
public final class ControlCodec {
    private ControlCodec() {
    }

    /** Tag byte of Hello.padding (field 15, wire type 2). */
    private static final int PADDING_TAG_SIZE = CodedOutputStream.computeTagSize(15);

    /**
     * Encodes header + body at {@code buffer[offset..]} and seals it. HELLO bodies are padded so the
     * datagram is at least {@link Wire#MIN_HELLO_LENGTH} bytes. Returns the datagram length, or
     * {@link Wire#ERR_TOO_LONG} when it would exceed {@code maxLength} or the buffer.
     */
    public static int encode(MutableDirectBuffer buffer, int offset, int maxLength, int type, long connectionId,
                             MessageLite body) {
        if (type == Wire.TYPE_HELLO && body instanceof Hello) {
            body = padHello((Hello) body);
        }
        byte[] bytes = body.toByteArray();
        int total = Wire.HEADER_LENGTH + bytes.length;
        if (total > maxLength || (long) offset + total > buffer.capacity()) {
            return Wire.ERR_TOO_LONG;
        }
        HeaderFlyweight.writeHeader(buffer, offset, type, connectionId);
        buffer.putBytes(offset + Wire.HEADER_LENGTH, bytes);
        Checksum.seal(buffer, offset, total);
        return total;
    }

    /** Returns {@code hello} with padding making the datagram exactly the minimum HELLO size, if short. */
    static Hello padHello(Hello hello) {
        Hello bare = hello.toBuilder().clearPadding().build();
        int size = Wire.HEADER_LENGTH + bare.getSerializedSize();
        if (size >= Wire.MIN_HELLO_LENGTH) {
            return bare;
        }
        int need = Wire.MIN_HELLO_LENGTH - size - PADDING_TAG_SIZE;
        // need = varint(n) + n; grow n until it fits (at most two iterations for these sizes).
        int n = Math.max(0, need - 2);
        while (CodedOutputStream.computeUInt32SizeNoTag(n) + n < need) {
            n++;
        }
        return bare.toBuilder().setPadding(com.google.protobuf.ByteString.copyFrom(new byte[n])).build();
    }

    /**
     * Parses the protobuf body of a control datagram whose header was already validated (type in
     * HELLO..LOSS_REPORT). Returns null when the body is not a valid message of that type.
     */
    public static MessageLite decodeBody(int type, DirectBuffer buffer, int offset, int length) {
        if (length < Wire.HEADER_LENGTH || offset < 0 || (long) offset + length > buffer.capacity()) {
            return null;
        }
        byte[] bytes = new byte[length - Wire.HEADER_LENGTH];
        buffer.getBytes(offset + Wire.HEADER_LENGTH, bytes);
        try {
            switch (type) {
                case Wire.TYPE_HELLO: return Hello.parseFrom(bytes);
                case Wire.TYPE_RETRY: return Retry.parseFrom(bytes);
                case Wire.TYPE_WELCOME: return Welcome.parseFrom(bytes);
                case Wire.TYPE_STREAM_OPEN: return StreamOpen.parseFrom(bytes);
                case Wire.TYPE_STREAM_REPLY: return StreamReply.parseFrom(bytes);
                case Wire.TYPE_STREAM_CLOSE: return StreamClose.parseFrom(bytes);
                case Wire.TYPE_STREAM_CLOSED: return StreamClosed.parseFrom(bytes);
                case Wire.TYPE_CLOSE: return Close.parseFrom(bytes);
                case Wire.TYPE_LOSS_REPORT: return LossReport.parseFrom(bytes);
                default: return null;
            }
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            return null; // garbage body: the caller drops the datagram
        }
    }

    /** A decoded control datagram. */
    public record Decoded(int type, long connectionId, MessageLite body) {
    }

    /**
     * Validates a whole control datagram (header, checksum, type) and parses its body. Returns null
     * when it is not a valid control datagram; HELLOs shorter than 1200 bytes are rejected too.
     */
    public static Decoded decode(DirectBuffer buffer, int offset, int length, int maxDatagram) {
        HeaderFlyweight h = new HeaderFlyweight().wrap(buffer, offset, length);
        if (h.validate(maxDatagram) != Wire.OK || !Wire.isControlType(h.type())) {
            return null;
        }
        if (h.type() == Wire.TYPE_HELLO && length < Wire.MIN_HELLO_LENGTH) {
            return null;
        }
        MessageLite body = decodeBody(h.type(), buffer, offset, length);
        return body == null ? null : new Decoded(h.type(), h.connectionId(), body);
    }

    /** Wire type of a control message class, or -1. */
    public static int typeOf(MessageLite body) {
        if (body instanceof Hello) return Wire.TYPE_HELLO;
        if (body instanceof Retry) return Wire.TYPE_RETRY;
        if (body instanceof Welcome) return Wire.TYPE_WELCOME;
        if (body instanceof StreamOpen) return Wire.TYPE_STREAM_OPEN;
        if (body instanceof StreamReply) return Wire.TYPE_STREAM_REPLY;
        if (body instanceof StreamClose) return Wire.TYPE_STREAM_CLOSE;
        if (body instanceof StreamClosed) return Wire.TYPE_STREAM_CLOSED;
        if (body instanceof Close) return Wire.TYPE_CLOSE;
        if (body instanceof LossReport) return Wire.TYPE_LOSS_REPORT;
        return -1;
    }

    /** Encodes a control message choosing the type from its class. */
    public static int encode(MutableDirectBuffer buffer, int offset, int maxLength, long connectionId,
                             MessageLite body) {
        return encode(buffer, offset, maxLength, typeOf(body), connectionId, body);
    }
}
