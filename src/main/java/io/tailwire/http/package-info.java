/**
 * What the admin HTTP endpoints of the server and the agent have in common and that depends on nothing else
 * of Tailwire: liveness and readiness ({@link io.tailwire.http.Health}).
 */
package io.tailwire.http;
