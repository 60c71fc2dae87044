package io.tailwire.integration;

import java.io.IOException;
import java.util.List;

/**
 * Keeps applications logging while a test kills and restarts things: one thread appends a line to each
 * log in turn, then pauses a few milliseconds (about 150 lines per second per log).
 */
final class BackgroundWriter implements AutoCloseable {
    private final List<NumberedLog> logs;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    BackgroundWriter(List<NumberedLog> logs) {
        this.logs = List.copyOf(logs);
        this.thread = new Thread(this::run, "test-log-writer");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        try {
            while (running) {
                for (NumberedLog l : logs) {
                    l.write(1);
                }
                Thread.sleep(6);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            failure = e;
        }
    }

    /** Stops writing; every line counted by the logs is in their files when this returns. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(10_000);
        if (failure != null) {
            throw new IllegalStateException("log writer failed", failure);
        }
    }
}
