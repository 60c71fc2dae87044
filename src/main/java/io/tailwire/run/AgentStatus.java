package io.tailwire.run;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import io.tailwire.agent.AgentCore;

/**
 * What the agent's admin endpoint shows, copied by the agent's loop thread every
 * {@link UdpAgent#STATUS_PUBLISH_INTERVAL_NS} from its core's read-only accessors: the HTTP threads read
 * only this immutable copy, never the core, which belongs to the loop thread.
 *
 * @param agentId      the agent's id
 * @param server       "host:port" of the server it ships to
 * @param connected    whether its connection to the server is established
 * @param state        the connection's state: "connecting", "connected" or "closed" (none yet: "connecting")
 * @param connectionId the live connection's id, -1 when none
 * @param lostBytes    bytes lost at the source (rotated or truncated away before they were read), ever
 * @param lossEvents   such losses, ever
 * @param queuedBytes  file bytes handed to the connection for sending (again after a reconnect's resend)
 * @param files        every tracked file generation, in the tailer's order
 * @param publishedAt  when the loop copied this
 */
public record AgentStatus(String agentId, String server, boolean connected, String state, long connectionId,
                          long lostBytes, long lossEvents, long queuedBytes, List<AgentCore.FileLag> files,
                          Instant publishedAt) {
    public AgentStatus {
        Objects.requireNonNull(agentId, "agentId");
        files = List.copyOf(files);
    }
}
