package io.tailwire.engine;

/** What the server's rooms count, in one place so that {@link ServerEndpoint#stats()} reads one snapshot. */
@EngineThread
final class ServerCounters {
    long datagramsReceived;
    long dropped;
    long dataPackets;
    long duplicates;
    long acksSent;
    long retriesSent;
    long welcomesSent;
    long resetsSent;
    long busyRejections;
    long protocolViolations;
    long appendStalls;
    long agentIdRefusals;
    long exceededAllowance;
    long evictions;
    long quotaRefusals;
    /** New payload bytes received (duplicates not counted). */
    long bytesReceived;
    /** Bytes agents reported lost at the source with LOSS_REPORT. */
    long lossReportedBytes;
    /** LOSS_REPORTs of a possible loss of unknown size (an empty range, wire-spec 6.5), once per stream. */
    long possibleLosses;
}
