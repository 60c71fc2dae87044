package io.tailwire.run;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import io.tailwire.io.RealFs;
import io.tailwire.log.Log;
import io.tailwire.server.store.OutputStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On SIGTERM udp-server's shutdown hook and its main thread both close the server. The stop must run once:
 * two concurrent stops forced and closed the store from two threads and logged "stopped" twice.
 */
class UdpServerCloseTest {
    @Test
    void closingFromTwoThreadsAtOnceStopsOnceAndSaysSoOnce(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Log.redirect(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            UdpServer server = new UdpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                dir.resolve("out"), RealFs.INSTANCE, UdpServer.config(1472, 100, 1 << 20, 100),
                OutputStore.Config.DEFAULT, new Log("server"));
            Thread hook = new Thread(server::close, "shutdown-hook");
            hook.start();
            server.close();
            hook.join();
            server.close(); // and a late third call changes nothing
        } finally {
            Log.redirect(System.err);
        }
        String log = buf.toString(StandardCharsets.UTF_8);
        assertEquals(1, log.lines().filter(l -> l.contains("server: stopped")).count(), log);
    }
}
