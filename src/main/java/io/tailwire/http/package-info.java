/**
 * What the admin HTTP endpoints of the server and the agent have in common and that depends on nothing else
 * of Tailwire: the endpoint itself with its request checks ({@link io.tailwire.http.HttpEndpoint}),
 * liveness and readiness ({@link io.tailwire.http.Health}), metrics on Prometheus' Java client
 * ({@link io.tailwire.http.MetricRegistry}) and a JSON writer ({@link io.tailwire.http.Json}).
 */
package io.tailwire.http;
