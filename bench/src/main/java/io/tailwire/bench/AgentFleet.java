package io.tailwire.bench;

import io.tailwire.agent.AgentCore;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Many agents from one thread: each {@link AgentCore} (the real sans-IO agent: tailer, state file,
 * connection) gets its own UDP socket, and one loop drives them all, round robin, waiting in one selector.
 * This is how the bench puts 1000 agent connections on a 2-core machine without 1000 threads fighting for
 * it (which measured the scheduler, not the server: 100 threads gave a fairness of 0.08).
 */
final class AgentFleet implements AutoCloseable {
    private final List<AgentCore> cores;
    private final List<DatagramChannel> channels = new ArrayList<>();
    private final Selector selector;
    private final Thread loop;
    private volatile boolean running = true;
    static final int PER_TURN = 8;
    private volatile Throwable failure;

    AgentFleet(List<AgentCore> cores, InetSocketAddress server) throws IOException {
        this.cores = cores;
        this.selector = Selector.open();
        for (int i = 0; i < cores.size(); i++) {
            DatagramChannel ch = DatagramChannel.open();
            ch.configureBlocking(false);
            ch.connect(server);
            ch.register(selector, SelectionKey.OP_READ, i);
            channels.add(ch);
        }
        loop = new Thread(this::run, "agent-fleet");
        loop.setDaemon(true);
        loop.start();
    }

    private void run() {
        ByteBuffer rx = ByteBuffer.allocateDirect(65536);
        ByteBuffer tx = ByteBuffer.allocateDirect(65536);
        UnsafeBuffer rxView = new UnsafeBuffer(rx);
        UnsafeBuffer txView = new UnsafeBuffer(tx);
        try {
            for (AgentCore c : cores) {
                c.start(System.nanoTime());
            }
            int start = 0;
            while (running) {
                long now = System.nanoTime();
                for (SelectionKey k : selector.selectedKeys()) {
                    int i = (Integer) k.attachment();
                    DatagramChannel ch = channels.get(i);
                    while (true) {
                        rx.clear();
                        int n;
                        try {
                            n = ch.read(rx);
                        } catch (PortUnreachableException e) {
                            continue;
                        }
                        if (n <= 0) {
                            break;
                        }
                        cores.get(i).onDatagram(rxView, 0, n, now);
                    }
                }
                selector.selectedKeys().clear();
                boolean worked = false;
                long next = Long.MAX_VALUE;
                int n = cores.size();
                for (int j = 0; j < n; j++) {
                    int i = (start + j) % n; // rotate who goes first, so no agent always finds the server idle
                    AgentCore c = cores.get(i);
                    int len;
                    int sent = 0;
                    // A few datagrams per agent per turn, round robin: the loop stands in for 1000 hosts, and
                    // an agent already flowing must not take the turn from one still connecting.
                    while (sent++ < PER_TURN && (len = c.poll(txView, now)) > 0) {
                        tx.clear().limit(len);
                        try {
                            channels.get(i).write(tx);
                        } catch (PortUnreachableException e) {
                            // the connection's timers retry
                        }
                        worked = true;
                    }
                    next = Math.min(next, c.nextDeadline());
                }
                start = (start + 1) % n;
                if (worked) {
                    selector.selectNow();
                } else {
                    long waitMs = (next - System.nanoTime()) / 1_000_000;
                    if (waitMs <= 0) {
                        selector.selectNow();
                    } else {
                        selector.select(Math.min(100, waitMs));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            failure = e;
        }
    }

    Throwable failure() {
        return failure;
    }

    @Override
    public void close() throws Exception {
        running = false;
        selector.wakeup();
        loop.join(5000);
        for (DatagramChannel ch : channels) {
            ch.close();
        }
        selector.close();
    }
}
