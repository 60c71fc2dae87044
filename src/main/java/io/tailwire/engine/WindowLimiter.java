package io.tailwire.engine;

/**
 * A rate limit the server applies through flow control (wire-spec.md 7.1): the engine caps every
 * advertised window by {@link #window} and reports the new payload it accepts with {@link #consume}.
 * Owned by the engine so it stays independent of whatever implements the limit (the admin throttle).
 * All calls come from the engine's one thread, with the engine's clock.
 */
public interface WindowLimiter {
    /** New (not duplicate) payload bytes accepted from the agent. */
    void consume(String agentId, long bytes, long nowNs);

    /**
     * The window to advertise given what the buffers allow ({@code window}): at most {@code window},
     * 0 when less than {@code minOpen} (the agent's max payload) could be granted.
     */
    long window(String agentId, long window, long minOpen, long nowNs);

    /** When (absolute ns) {@link #window} could be at least {@code bytes}; Long.MAX_VALUE if never (paused). */
    long whenAllowed(String agentId, long bytes, long nowNs);

    /** No limit. */
    WindowLimiter NONE = new WindowLimiter() {
        @Override
        public void consume(String agentId, long bytes, long nowNs) {
        }

        @Override
        public long window(String agentId, long window, long minOpen, long nowNs) {
            return window;
        }

        @Override
        public long whenAllowed(String agentId, long bytes, long nowNs) {
            return nowNs;
        }
    };
}
