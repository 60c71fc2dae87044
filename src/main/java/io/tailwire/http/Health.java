package io.tailwire.http;

/**
 * What {@code GET /health} (liveness) and {@code GET /ready} (readiness) of an admin endpoint report. Each
 * answer is null when all is well, otherwise one line saying why not, which the endpoint sends with a 503.
 * Called on the admin HTTP threads: implementations read only thread-safe state and never block.
 */
public interface Health {
    /**
     * Liveness: null while the process does its work; otherwise why it does not (a thread it needs has
     * died or stopped), so a supervisor should restart it.
     */
    String notLive();

    /**
     * Readiness: null when it takes work now; otherwise why not (starting, stopping, or something it
     * needs refuses, such as storage that refuses writes), so a balancer should send work elsewhere.
     */
    String notReady();
}
