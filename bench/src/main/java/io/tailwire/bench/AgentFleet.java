package io.tailwire.bench;

import io.tailwire.agent.AgentCore;
import io.tailwire.run.AgentIo;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;

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
        AgentIo io = new AgentIo();
        try {
            for (AgentCore c : cores) {
                c.start(System.nanoTime());
            }
            int start = 0;
            while (running) {
                long now = System.nanoTime();
                for (SelectionKey k : selector.selectedKeys()) {
                    int i = (Integer) k.attachment();
                    io.receive(channels.get(i), cores.get(i), now);
                }
                selector.selectedKeys().clear();
                boolean worked = false;
                long next = Long.MAX_VALUE;
                int n = cores.size();
                for (int j = 0; j < n; j++) {
                    int i = (start + j) % n; // rotate who goes first, so no agent always finds the server idle
                    AgentCore c = cores.get(i);
                    // A few datagrams per agent per turn, round robin: the loop stands in for 1000 hosts, and
                    // an agent already flowing must not take the turn from one still connecting.
                    worked |= io.send(channels.get(i), c, now, PER_TURN) > 0;
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
