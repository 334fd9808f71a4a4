package io.shardschema.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.shardschema.config.Config;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP server of {@code shardschema serve}: the JSON API under /api/v1, Prometheus metrics at /metrics and the
 * web page at /. Every answer is JSON (or the page's files, or metrics text); an error is a JSON body
 * {"error": ..., "status": ...}, never a stack trace.
 */
public final class ApiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final int MAX_BODY_BYTES = 1 << 20;
    /** Connections open at once; the JDK server closes any further one as soon as it arrives. */
    static final int MAX_CONNECTIONS = 256;
    /** Seconds a client has to send a whole request (line, headers and body) before its connection is closed. */
    static final int REQUEST_SECONDS = 10;

    private final HttpServer http;
    private final ExecutorService executor;
    private final Commands commands;
    private final ApiAuth auth;
    private final FleetMetrics metrics;
    private final WorkLimits work = new WorkLimits();
    private final AllowedHosts hosts;

    private ApiServer(HttpServer http, ExecutorService executor, Commands commands, ApiAuth auth, FleetMetrics metrics,
                      AllowedHosts hosts) {
        this.hosts = hosts;
        this.http = http;
        this.executor = executor;
        this.commands = commands;
        this.auth = auth;
        this.metrics = metrics;
    }

    /**
     * Starts serving on {@code bind:port} (port 0: any free port), with the config's apiToken (none: no change is
     * accepted), apiOpenReads and apiHostNames.
     */
    public static ApiServer start(String bind, int port, Commands commands, FleetMetrics metrics, Config config)
            throws IOException {
        // The JDK server's settings, read once, before its first instance. It writes a body in 4 KiB pieces; with
        // Nagle's algorithm each piece waits for the client's delayed ACK (40 ms), which made a 400 KB grid page
        // take seconds. It reads a request on an executor thread with blocking reads and no timeout: maxReqTime
        // closes a connection whose request is not in after REQUEST_SECONDS (one that sends nothing, after 10 to
        // 20 s). No maxRspTime: it counts the command's own time too, and would cut a long checksum or drift.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        System.setProperty("sun.net.httpserver.maxReqTime", String.valueOf(REQUEST_SECONDS));
        System.setProperty("jdk.httpserver.maxConnections", String.valueOf(MAX_CONNECTIONS));
        HttpServer http = HttpServer.create(new InetSocketAddress(bind, port), 64);
        // As many threads as connections, made when needed and never queued for: a client that sends half a
        // request holds its own connection's thread, and no other request waits behind it.
        ExecutorService executor = new ThreadPoolExecutor(0, MAX_CONNECTIONS, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "http");
            t.setDaemon(true);
            return t;
        });
        ApiServer server = new ApiServer(http, executor, commands,
                new ApiAuth(config.apiToken().orElse(null), config.apiOpenReads()), metrics,
                new AllowedHosts(config.apiHostNames()));
        http.setExecutor(executor);
        http.createContext(ApiRoutes.PREFIX, ex -> server.handle(ex, server::api));
        http.createContext("/metrics", ex -> server.handle(ex, server::metrics));
        http.createContext("/", ex -> server.handle(ex, WebAssets::serve));
        http.start();
        return server;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A response: status, content type and body. */
    record Reply(int status, String contentType, byte[] body, Map<String, String> headers) {
        static Reply json(int status, String json, Map<String, String> headers) {
            return new Reply(status, "application/json; charset=utf-8", json.getBytes(StandardCharsets.UTF_8), headers);
        }

        static Reply error(ApiError e) {
            return json(e.status, errorBody(e.getMessage(), e.status).toString(), e.headers);
        }

        /** Every error's body: {"error": message, "status": n}. */
        static ObjectNode errorBody(String message, int status) {
            return JSON.createObjectNode().put("error", message).put("status", status);
        }
    }

    @FunctionalInterface
    interface Endpoint {
        Reply answer(HttpExchange exchange) throws IOException;
    }

    private void handle(HttpExchange ex, Endpoint endpoint) throws IOException {
        Reply reply;
        try {
            checkHost(ex);
            reply = endpoint.answer(ex);
        } catch (ApiError e) {
            reply = Reply.error(e);
        } catch (RuntimeException e) {
            log.error("{} {} failed", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), e);
            reply = Reply.error(new ApiError(500, "internal error; the server's log has the details"));
        }
        try (ex) {
            reply.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
            ex.getResponseHeaders().set("Content-Type", reply.contentType());
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            ex.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
            boolean head = ex.getRequestMethod().equals("HEAD");
            ex.sendResponseHeaders(reply.status(), head ? -1 : reply.body().length == 0 ? -1 : reply.body().length);
            if (!head && reply.body().length > 0) {
                ex.getResponseBody().write(reply.body());
            }
        }
        log.debug("{} {} -> {}", ex.getRequestMethod(), ex.getRequestURI().getRawPath(), reply.status());
    }

    /** Requests whose Host is not a name of this server are refused, whatever address it listens on. */
    private void checkHost(HttpExchange ex) {
        if (!hosts.allows(ex.getRequestHeaders().getFirst("Host"))) {
            throw new ApiError(403, "this server answers requests for its own addresses and names only (localhost,"
                    + " this machine's names and those in apiHostNames), against DNS rebinding");
        }
    }

    /** Requests from another site's pages (a browser says so in Sec-Fetch-Site) get no data and start no work. */
    private static void refuseCrossSite(HttpExchange ex) {
        if ("cross-site".equals(ex.getRequestHeaders().getFirst("Sec-Fetch-Site"))) {
            throw new ApiError(403, "requests from other sites' pages are refused");
        }
    }

    /** For the endpoints that only read (metrics, the page's files): a 405 with Allow for any other method. */
    static void requireGet(HttpExchange ex) {
        String method = ex.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            ex.getResponseHeaders().set("Allow", "GET, HEAD");
            throw new ApiError(405, "only GET is allowed here");
        }
    }

    private Reply metrics(HttpExchange ex) {
        requireGet(ex);
        refuseCrossSite(ex);
        auth.check(false, false, ex.getRequestHeaders().getFirst("Authorization"));
        return new Reply(200, "text/plain; version=0.0.4; charset=utf-8",
                work.run(false, metrics::scrape).getBytes(StandardCharsets.UTF_8), Map.of());
    }

    private Reply api(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String method = ex.getRequestMethod();
        refuseCrossSite(ex);
        if (path.equals(ApiRoutes.PREFIX) || path.equals(ApiRoutes.PREFIX + "/")) {
            auth.check(false, false, ex.getRequestHeaders().getFirst("Authorization"));
            return index();
        }
        List<String> allowed = new ArrayList<>();
        for (ApiRoutes.Route route : ApiRoutes.ROUTES) {
            List<String> ids = route.match(path);
            if (ids == null) {
                continue;
            }
            if (!route.method().equals(method)) {
                allowed.add(route.method());
                continue;
            }
            auth.check(route.changes(), route.heavy(), ex.getRequestHeaders().getFirst("Authorization"));
            Fields query = Fields.query(query(ex.getRequestURI().getRawQuery()));
            Fields body = Fields.body(body(ex));
            Args args = route.handler().command(new ApiRoutes.Request(ids, query, body));
            query.rejectUnknown();
            body.rejectUnknown();
            // Only the command counts against the limits: a slow client's body or answer holds no permit.
            return reply(route, work.run(route.heavy(), () -> commands.run(args.json())));
        }
        if (!allowed.isEmpty()) {
            ex.getResponseHeaders().set("Allow", String.join(", ", allowed));
            throw new ApiError(405, method + " is not allowed on " + path + "; allowed: " + String.join(", ", allowed));
        }
        throw new ApiError(404, "no endpoint " + method + " " + path + "; GET " + ApiRoutes.PREFIX + "/ lists them");
    }

    /** The command's outcome as HTTP: its JSON document, or its error with the status that fits the exit code. */
    private static Reply reply(ApiRoutes.Route route, Commands.Outcome outcome) {
        Map<String, String> headers = Map.of("X-ShardSchema-Exit-Code", String.valueOf(outcome.exitCode()));
        if (outcome.internal()) {
            throw new ApiError(500, "internal error; the server's log has the details");
        }
        if (outcome.error() != null) {
            // Exit 1 is a database the command needed that failed (unreachable, access denied): a bad gateway.
            int status = outcome.notFound() ? 404 : switch (outcome.exitCode()) {
                case 2 -> 400;
                case 4 -> 409;
                default -> 502;
            };
            return Reply.json(status, Reply.errorBody(outcome.error(), status).put("exitCode", outcome.exitCode())
                    .toString(), headers);
        }
        String json = outcome.stdout().isBlank() ? "{}" : outcome.stdout();
        if (route.member() != null) {
            try {
                json = JSON.readTree(json).path(route.member()).toString();
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("the command printed no JSON", e);
            }
        }
        return Reply.json(route.created() && outcome.exitCode() == 0 ? 201 : 200, json, headers);
    }

    private static Reply index() {
        List<Map<String, Object>> routes = new ArrayList<>();
        for (ApiRoutes.Route r : ApiRoutes.ROUTES) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", r.method());
            m.put("path", ApiRoutes.PREFIX + r.path());
            m.put("needsToken", r.changes() || r.heavy());
            m.put("heavy", r.heavy());
            m.put("description", r.description());
            routes.add(m);
        }
        try {
            return Reply.json(200, JSON.writeValueAsString(Map.of("endpoints", routes)), Map.of());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name;
            String value;
            try {
                name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("malformed query string");
            }
            if (out.putIfAbsent(name, value) != null) {
                throw ApiError.badRequest("parameter '" + name + "' is given twice");
            }
        }
        return out;
    }

    /** The JSON body, or null when there is none. The parser's message is not echoed: it quotes the input. */
    private static JsonNode body(HttpExchange ex) throws IOException {
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        if (bytes.length > MAX_BODY_BYTES) {
            throw new ApiError(413, "the request body is larger than " + MAX_BODY_BYTES + " bytes");
        }
        if (new String(bytes, StandardCharsets.UTF_8).isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            var where = e.getLocation();
            throw ApiError.badRequest("malformed JSON body" + (where == null ? ""
                    : " at line " + where.getLineNr() + ", column " + where.getColumnNr()));
        }
    }
}
