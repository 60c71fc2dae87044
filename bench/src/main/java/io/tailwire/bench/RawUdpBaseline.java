package io.tailwire.bench;

import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.CountDownLatch;

/**
 * The ceiling for any UDP protocol on this machine: a sender thread writes fixed-size datagrams as fast as it
 * can through a connected DatagramChannel with a direct buffer; a receiver thread in the same JVM only counts
 * them. No protocol, no acks, no retransmission: UDP drops what the receiver cannot keep up with, so both
 * the offered (sent) and the delivered (received) rates are reported.
 *
 * Output ends with one machine-readable line:
 * {@code RESULT raw-udp size=1472 sent_MBps=.. sent_dps=.. recv_MBps=.. recv_dps=.. loss_pct=..}
 */
public final class RawUdpBaseline {
    private static final String USAGE =
        "RawUdpBaseline [--size 1472] [--bytes 256m] [--host 127.0.0.1] [--port 0] [--sndbuf 4m] [--rcvbuf 8m]";

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv, USAGE);
        int size = (int) a.size("size", "1472");
        long bytes = a.size("bytes", "256m");
        String host = a.get("host", "127.0.0.1");
        int port = Integer.parseInt(a.get("port", "0"));
        long count = Math.max(1, bytes / size);

        DatagramChannel rx = DatagramChannel.open();
        rx.setOption(StandardSocketOptions.SO_RCVBUF, (int) a.size("rcvbuf", "8m"));
        rx.bind(new InetSocketAddress(host, port));
        InetSocketAddress rxAddr = (InetSocketAddress) rx.getLocalAddress();

        long[] got = new long[2];   // datagrams, bytes
        long[] times = new long[2]; // first, last arrival
        CountDownLatch ready = new CountDownLatch(1);
        Thread receiver = new Thread(() -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(65536);
            try {
                ready.countDown();
                while (true) {
                    buf.clear();
                    rx.receive(buf);
                    int n = buf.position();
                    // A datagram of a different size is the sender's end marker.
                    if (n != size) {
                        break;
                    }
                    long now = System.nanoTime();
                    if (got[0] == 0) {
                        times[0] = now;
                    }
                    times[1] = now;
                    got[0]++;
                    got[1] += n;
                }
            } catch (Exception e) {
                // closed
            }
        }, "udp-receiver");
        receiver.start();
        ready.await();

        DatagramChannel tx = DatagramChannel.open();
        tx.setOption(StandardSocketOptions.SO_SNDBUF, (int) a.size("sndbuf", "4m"));
        tx.connect(rxAddr);
        ByteBuffer payload = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) {
            payload.put((byte) i);
        }
        long t0 = System.nanoTime();
        for (long i = 0; i < count; i++) {
            payload.clear();
            tx.write(payload);
        }
        long t1 = System.nanoTime();
        // End markers: several, spaced, since UDP may drop any single one.
        ByteBuffer end = ByteBuffer.allocateDirect(size == 1 ? 2 : 1);
        for (int i = 0; i < 50 && receiver.isAlive(); i++) {
            end.clear();
            tx.write(end);
            receiver.join(20);
        }
        rx.close();
        receiver.join();
        tx.close();

        double sendSecs = (t1 - t0) / 1e9;
        double recvSecs = Math.max(times[1] - times[0], 1) / 1e9;
        double sentMBps = count * (double) size / sendSecs / 1e6;
        double sentDps = count / sendSecs;
        double recvMBps = got[1] / recvSecs / 1e6;
        double recvDps = got[0] / recvSecs;
        double loss = 100.0 * (count - got[0]) / count;
        System.out.printf("raw UDP, 2 threads in one JVM, %s -> %s, %d datagrams of %d bytes (%d MB)%n",
            "connected DatagramChannel", rxAddr, count, size, count * size / 1_000_000);
        System.out.printf("  sent     %10.1f MB/s %12.0f datagrams/s  (%.3f s)%n", sentMBps, sentDps, sendSecs);
        System.out.printf("  received %10.1f MB/s %12.0f datagrams/s  (%.3f s), loss %.2f%%%n", recvMBps, recvDps,
            recvSecs, loss);
        System.out.printf("RESULT raw-udp size=%d sent_MBps=%.1f sent_dps=%.0f recv_MBps=%.1f recv_dps=%.0f loss_pct=%.2f%n",
            size, sentMBps, sentDps, recvMBps, recvDps, loss);
    }
}
