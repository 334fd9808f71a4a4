package io.shardschema.server;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/** The web page's files, served from the jar (resources under /web): no separate build toolchain. */
final class WebAssets {
    private static final Map<String, String> FILES = Map.of(
            "/", "index.html",
            "/index.html", "index.html",
            "/app.js", "app.js",
            "/app.css", "app.css");

    private WebAssets() {
    }

    static ApiServer.Reply serve(HttpExchange ex) throws IOException {
        ApiServer.requireGet(ex);
        String file = FILES.get(ex.getRequestURI().getPath());
        if (file == null) {
            throw new ApiError(404, "no page " + ex.getRequestURI().getPath() + "; the dashboard is at /");
        }
        try (InputStream in = WebAssets.class.getResourceAsStream("/web/" + file)) {
            if (in == null) {
                throw new IllegalStateException("resource /web/" + file + " is missing from the jar");
            }
            return new ApiServer.Reply(200, contentType(file), in.readAllBytes(), Map.of());
        }
    }

    private static String contentType(String file) {
        if (file.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        }
        if (file.endsWith(".css")) {
            return "text/css; charset=utf-8";
        }
        return "text/html; charset=utf-8";
    }
}
