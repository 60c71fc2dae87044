package io.tailwire.tools;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The socket side of udp-chaos on loopback: per-client upstream sockets and replies routed back. */
class ChaosProxySocketTest {
    private final List<AutoCloseable> open = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private ChaosProxy proxy;

    @AfterEach
    void tearDown() throws Exception {
        if (proxy != null) {
            proxy.requestStop();
        }
        for (AutoCloseable c : open) {
            c.close();
        }
        for (Thread t : threads) {
            t.join(5000);
        }
    }

    /** Echo server that answers "<its payload>@<source port it saw>"; records the sources. */
    private InetSocketAddress startEcho(Set<SocketAddress> sources) throws Exception {
        DatagramChannel ch = DatagramChannel.open();
        ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        open.add(ch);
        Thread t = new Thread(() -> {
            ByteBuffer b = ByteBuffer.allocate(2048);
            try {
                while (true) {
                    b.clear();
                    SocketAddress from = ch.receive(b);
                    synchronized (sources) {
                        sources.add(from);
                    }
                    b.flip();
                    String msg = StandardCharsets.US_ASCII.decode(b) + "@" + ((InetSocketAddress) from).getPort();
                    ch.send(ByteBuffer.wrap(msg.getBytes(StandardCharsets.US_ASCII)), from);
                }
            } catch (Exception closed) {
                // test over
            }
        });
        t.start();
        threads.add(t);
        return (InetSocketAddress) ch.getLocalAddress();
    }

    private InetSocketAddress startProxy(InetSocketAddress upstream, ChaosConfig faults, ChaosProxy.Direction dir)
            throws Exception {
        ChaosProxy.Options o = new ChaosProxy.Options();
        o.direction = dir;
        o.seed = 7;
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        proxy = new ChaosProxy(o, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), upstream, faults, sink);
        Thread t = new Thread(() -> {
            try {
                proxy.runLoop();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        t.start();
        threads.add(t);
        InetSocketAddress a = proxy.awaitBound(5000);
        assertNotNull(a, "proxy bound");
        return a;
    }

    private DatagramSocket client() throws Exception {
        DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        s.setSoTimeout(2000);
        open.add(s);
        return s;
    }

    private static List<String> receiveAll(DatagramSocket s, int max, int timeoutMs) throws Exception {
        List<String> got = new ArrayList<>();
        s.setSoTimeout(timeoutMs);
        byte[] b = new byte[2048];
        try {
            while (got.size() < max) {
                DatagramPacket p = new DatagramPacket(b, b.length);
                s.receive(p);
                got.add(new String(b, 0, p.getLength(), StandardCharsets.US_ASCII));
            }
        } catch (SocketTimeoutException e) {
            // no more
        }
        return got;
    }

    @Test
    void eachClientGetsItsOwnUpstreamSocketAndOnlyItsOwnReplies() throws Exception {
        Set<SocketAddress> sources = new HashSet<>();
        InetSocketAddress echo = startEcho(sources);
        InetSocketAddress p = startProxy(echo, ChaosConfig.none(), ChaosProxy.Direction.both);
        DatagramSocket a = client();
        DatagramSocket b = client();
        for (int i = 0; i < 20; i++) {
            a.send(new DatagramPacket(("a" + i).getBytes(), ("a" + i).length(), p));
            b.send(new DatagramPacket(("b" + i).getBytes(), ("b" + i).length(), p));
        }
        List<String> ga = receiveAll(a, 20, 3000);
        List<String> gb = receiveAll(b, 20, 3000);
        assertEquals(20, ga.size());
        assertEquals(20, gb.size());
        Set<String> portsA = new HashSet<>();
        Set<String> portsB = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            // No faults: order kept, and every reply is the client's own message.
            assertEquals("a" + i, ga.get(i).split("@")[0]);
            assertEquals("b" + i, gb.get(i).split("@")[0]);
            portsA.add(ga.get(i).split("@")[1]);
            portsB.add(gb.get(i).split("@")[1]);
        }
        // One upstream source per client, and different ones.
        assertEquals(1, portsA.size());
        assertEquals(1, portsB.size());
        portsA.retainAll(portsB);
        assertEquals(Set.of(), portsA);
        synchronized (sources) {
            assertEquals(2, sources.size());
        }
    }

    @Test
    void lossOnlyDownstreamLetsRequestsThroughAndDropsEveryReply() throws Exception {
        Set<SocketAddress> sources = new HashSet<>();
        InetSocketAddress echo = startEcho(sources);
        ChaosConfig allLost = new ChaosConfig(1, 0, 0, 0, 0, List.of(), 0, 0, 0);
        InetSocketAddress p = startProxy(echo, allLost, ChaosProxy.Direction.down);
        DatagramSocket a = client();
        for (int i = 0; i < 10; i++) {
            a.send(new DatagramPacket(("x" + i).getBytes(), ("x" + i).length(), p));
        }
        assertEquals(List.of(), receiveAll(a, 10, 1000));
        synchronized (sources) {
            assertEquals(1, sources.size());
        }
    }
}
