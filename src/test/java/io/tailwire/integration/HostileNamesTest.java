package io.tailwire.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tailwire.engine.AgentConnection;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.AgentEventHandler;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamReply;
import io.tailwire.proto.StreamStatus;
import io.tailwire.run.UdpServer;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.Wire;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hostile or broken agent against a real server on loopback: names that try to leave OUT/agent_id
 * ('..', absolute tricks, symbolic links planted inside the agent's directory, control characters, the
 * metadata directory, over-long names) and bad agent ids. Each must be refused (BAD_PATH, or
 * CLOSE(BAD_AGENT_ID)) and nothing may be created anywhere but OUT/agent_id. Requests go through a raw
 * {@link AgentConnection} (no agent-side checks) and as hand-built STREAM_OPEN datagrams.
 */
class HostileNamesTest {
    private static final long SEED = 0x5EED_0400L;
    private static final String ID = "evil";

    @TempDir
    Path tmp;
    private Rig rig;
    private UdpServer server;
    private Path outside;

    @BeforeEach
    void start() throws Exception {
        rig = new Rig(tmp, SEED);
        server = rig.server();
        outside = Files.createDirectories(tmp.resolve("outside"));
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    /** Names the server must refuse, whatever the agent. */
    private static List<String> hostilePaths() {
        List<String> p = new ArrayList<>(List.of(
            "../../escape.log",
            "escape.log",
            "",
            "/../escape.log",
            "/../../escape.log",
            "/a/../../../escape.log",
            "/a/./b.log",
            "/a//b.log",
            "/a/b/",
            "/./escape.log",
            "/..",
            "/.tailwire/forged.idx",
            "/.TAILWIRE/forged.idx",
            "/a/b\u0000c.log",
            "/a/\nb.log",
            "/a/\u007fb.log",
            "/link/pwned.log",
            "/link",
            "/dangling",
            "/filelink",
            "/ok/file.log/under-a-file.log",
            "/" + "x".repeat(256)));
        StringBuilder longPath = new StringBuilder();
        while (longPath.length() <= 4096) {
            longPath.append("/abcdefghij");
        }
        p.add(longPath.toString());
        return p;
    }

    @Test
    void hostilePathsAreRefusedAndNothingIsCreatedOutsideTheAgentDirectory() throws Exception {
        Path agentDir = Files.createDirectories(rig.out.resolve(ID));
        // Planted by someone with access to OUT: links out of the agent's directory.
        Files.createSymbolicLink(agentDir.resolve("link"), outside);
        Files.createSymbolicLink(agentDir.resolve("dangling"), outside.resolve("created-through-link"));
        Path victim = Files.writeString(outside.resolve("victim.txt"), "not yours\n");
        Files.createSymbolicLink(agentDir.resolve("filelink"), victim);

        try (RawAgent raw = new RawAgent(server.address(), ID, 65507)) {
            raw.connect();
            // A legitimate stream first, with data: the path that later gets a child below a file.
            int ok = raw.conn.openStream("/ok/file.log", 1, FileIdentity.getDefaultInstance(), 0);
            raw.pumpUntil(() -> raw.replies.containsKey(ok), "reply to /ok/file.log");
            assertEquals(StreamStatus.OK, raw.replies.get(ok).getStatus());
            byte[] payload = "legitimate line\n".getBytes(StandardCharsets.US_ASCII);
            assertTrue(raw.conn.send(ok, 0, new UnsafeBuffer(payload), 0, payload.length));
            Path okOut = rig.output(ID, Path.of("/ok/file.log"));
            raw.pumpUntil(() -> raw.conn.allAcked() && okOut.toFile().length() == payload.length, "data acknowledged");

            Map<Integer, String> viaConnection = new LinkedHashMap<>();
            for (String p : hostilePaths()) {
                int id = raw.conn.openStream(p, 1, FileIdentity.getDefaultInstance(), 0);
                assertTrue(id > 0, "stream open request for " + quote(p) + " fits a 65507-byte datagram");
                viaConnection.put(id, p);
            }
            // The same names as hand-built STREAM_OPEN datagrams, once with generation 0 (identity match).
            Map<Integer, String> handBuilt = new LinkedHashMap<>();
            int next = 10_000;
            for (String p : hostilePaths()) {
                for (long gen : new long[] {0, 7}) {
                    int id = next++;
                    raw.sendRaw(StreamOpen.newBuilder().setStreamId(id).setPath(p).setGeneration(gen)
                        .setIdentity(FileIdentity.newBuilder().setInode(42).setFingerprintLength(0)).build());
                    handBuilt.put(id, p);
                }
            }
            raw.pumpUntil(() -> raw.replies.keySet().containsAll(viaConnection.keySet())
                && raw.rawReplies.keySet().containsAll(handBuilt.keySet()), "replies to every hostile open");

            List<String> accepted = new ArrayList<>();
            for (Map.Entry<Integer, String> e : viaConnection.entrySet()) {
                StreamReply r = raw.replies.get(e.getKey());
                if (r.getStatus() != StreamStatus.BAD_PATH) {
                    accepted.add(quote(e.getValue()) + " -> " + r.getStatus());
                }
            }
            for (Map.Entry<Integer, String> e : handBuilt.entrySet()) {
                StreamReply r = raw.rawReplies.get(e.getKey());
                if (r.getStatus() != StreamStatus.BAD_PATH) {
                    accepted.add("hand-built " + quote(e.getValue()) + " -> " + r.getStatus());
                }
            }
            assertEquals(List.of(), accepted, "every hostile path must get BAD_PATH");
            assertEquals("legitimate line\n", Files.readString(okOut));
        }

        assertEquals(List.of("victim.txt"), listAll(outside), "nothing may appear behind the planted links");
        assertEquals("not yours\n", Files.readString(victim), "a file behind a link is not written");
        // Outside OUT/evil, the tree is exactly what the test itself made.
        TreeSet<String> elsewhere = new TreeSet<>();
        for (String p : listAll(tmp)) {
            if (!p.startsWith("out/" + ID + "/")) {
                elsewhere.add(p);
            }
        }
        assertEquals(new TreeSet<>(List.of("logs", "out", "out/" + ID, "outside", "outside/victim.txt", "state")),
            elsewhere);
        // Inside it: the legitimate copy, the planted links, the server's metadata; nothing else.
        List<String> inside = new ArrayList<>();
        for (String p : listAll(rig.out.resolve(ID))) {
            if (!p.startsWith(".tailwire")) {
                inside.add(p);
            }
        }
        assertEquals(List.of("dangling", "filelink", "link", "ok", "ok/file.log"), inside);
    }

    @Test
    void badAgentIdsAreClosedAndCreateNothing() throws Exception {
        List<String> closedWith = new ArrayList<>();
        for (String id : List.of("..", ".", "../escape", "a/b", "with space", "x".repeat(65), "tab\tid", "")) {
            try (RawAgent raw = new RawAgent(server.address(), id, 1472)) {
                raw.pumpUntil(() -> raw.closeCode != null || raw.conn.state() == AgentConnection.State.CONNECTED,
                    "an answer to HELLO from agent id " + quote(id));
                if (raw.closeCode != CloseCode.BAD_AGENT_ID) {
                    closedWith.add(quote(id) + " -> " + (raw.closeCode == null ? "WELCOME" : raw.closeCode));
                }
            }
        }
        assertEquals(List.of(), closedWith, "every bad agent id must be closed with BAD_AGENT_ID");
        assertEquals(List.of(), listAll(rig.out), "no directory for a bad agent id");
        assertEquals(List.of(), listAll(outside));
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("'");
        for (char c : (s.length() > 60 ? s.substring(0, 60) + "..." : s).toCharArray()) {
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }

    /** Every path under dir (files, directories, links), relative, sorted; without following links. */
    private static List<String> listAll(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    /**
     * An {@link AgentConnection} driven by the test thread over a real socket, with no agent logic on top:
     * it sends whatever names it is given. Replies to hand-built opens are picked out before the
     * connection (which does not know those stream ids) sees them.
     */
    private static final class RawAgent implements AgentEventHandler, AutoCloseable {
        final AgentConnection conn;
        final Map<Integer, StreamReply> replies = new HashMap<>();
        final Map<Integer, StreamReply> rawReplies = new HashMap<>();
        volatile CloseCode closeCode;
        private final DatagramChannel ch;
        private final ByteBuffer rx = ByteBuffer.allocateDirect(65536);
        private final ByteBuffer tx = ByteBuffer.allocateDirect(65536);
        private final UnsafeBuffer rxView = new UnsafeBuffer(rx);
        private final UnsafeBuffer txView = new UnsafeBuffer(tx);
        private final int maxDatagram;

        RawAgent(InetSocketAddress server, String agentId, int maxDatagram) throws IOException {
            this.maxDatagram = maxDatagram;
            AgentConnectionConfig cfg = AgentConnectionConfig.defaults(agentId).withMaxDatagramSize(maxDatagram)
                .withSendBufferBytes(1 << 20);
            this.conn = new AgentConnection(cfg, System.nanoTime(), SEED);
            this.ch = DatagramChannel.open();
            ch.configureBlocking(false);
            ch.connect(server);
        }

        void connect() throws Exception {
            pumpUntil(() -> conn.state() == AgentConnection.State.CONNECTED || closeCode != null, "WELCOME");
            assertEquals(AgentConnection.State.CONNECTED, conn.state(), "closed with " + closeCode);
        }

        void sendRaw(StreamOpen open) throws IOException {
            int len = ControlCodec.encode(txView, 0, maxDatagram, Wire.TYPE_STREAM_OPEN, conn.connectionId(), open);
            assertTrue(len > 0, "hand-built STREAM_OPEN fits");
            tx.clear().limit(len);
            ch.write(tx);
        }

        void pumpUntil(BooleanSupplier done, String what) throws Exception {
            long deadline = System.nanoTime() + Rig.WAIT_NS;
            while (!done.getAsBoolean()) {
                if (System.nanoTime() > deadline) {
                    fail("no " + what + " within " + Rig.WAIT_NS / 1_000_000_000L + " s");
                }
                long now = System.nanoTime();
                int n;
                while ((n = readOne()) > 0) {
                    if (rxView.getByte(Wire.TYPE_OFFSET) == Wire.TYPE_STREAM_REPLY) {
                        ControlCodec.Decoded d = ControlCodec.decode(rxView, 0, n, 65507);
                        if (d != null && ((StreamReply) d.body()).getStreamId() >= 10_000) {
                            StreamReply r = (StreamReply) d.body();
                            rawReplies.put(r.getStreamId(), r);
                            continue;
                        }
                    }
                    conn.onDatagram(rxView, 0, n, now);
                    AgentEventHandler.drain(conn, this);
                }
                int len;
                while ((len = conn.poll(txView, now)) > 0) {
                    tx.clear().limit(len);
                    ch.write(tx);
                }
                AgentEventHandler.drain(conn, this);
                Thread.sleep(1);
            }
        }

        private int readOne() throws IOException {
            rx.clear();
            try {
                return ch.read(rx);
            } catch (java.net.PortUnreachableException e) {
                return 0;
            }
        }

        @Override
        public void onConnected(long connectionId, long serverInstance) {
        }

        @Override
        public void onStreamReply(int streamId, StreamStatus status, long resumeOffset, long generation, String msg) {
            replies.put(streamId, StreamReply.newBuilder().setStreamId(streamId).setStatus(status)
                .setResumeOffset(resumeOffset).setGeneration(generation).setMessage(msg).build());
        }

        @Override
        public void onDurable(int streamId, long durableOffset) {
        }

        @Override
        public void onStreamClosed(int streamId, long durableLength) {
        }

        @Override
        public void onClosed(CloseCode code, String reason, long retryAfterMs) {
            closeCode = code;
        }

        @Override
        public void close() throws IOException {
            conn.close(System.nanoTime());
            int len;
            while ((len = conn.poll(txView, System.nanoTime())) > 0) {
                tx.clear().limit(len);
                ch.write(tx);
            }
            ch.close();
        }
    }
}
