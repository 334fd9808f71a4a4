package io.shardschema.server;

import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every endpoint of the JSON API under /api/v1, each mapped to the shardschema command that does its work: the
 * API can do what the command line can, through the same code. Ids in paths are numbers; other inputs come from
 * the query string (reads) or a JSON body (changes), and unknown names are refused.
 */
final class ApiRoutes {
    static final String PREFIX = "/api/v1";

    /** What a route sees of a request: the ids in its path, the query parameters and the body's fields. */
    record Request(List<String> ids, Fields query, Fields body) {
        String id(int i) {
            return ids.get(i);
        }
    }

    @FunctionalInterface
    interface Handler {
        Args command(Request request);
    }

    /**
     * One endpoint; {@code changes}: it changes something (it needs the token); {@code heavy}: it reads every shard
     * or every row, or builds scratch schemas (it needs the token and few run at once, see {@link WorkLimits});
     * {@code created}: success answers 201; {@code member}: the answer is this member of the command's JSON
     * document (null: all of it); {@code pattern}: its full path, with a group for each id.
     */
    record Route(String method, String path, boolean changes, boolean heavy, boolean created, String member,
                 String description, Handler handler, Pattern pattern) {
        Route(String method, String path, boolean changes, boolean heavy, boolean created, String member,
              String description, Handler handler) {
            this(method, path, changes, heavy, created, member, description, handler, Pattern.compile(Pattern.quote(PREFIX)
                    + path.replace("{id}", "(\\d{1,18})").replace("{version}", "(\\d{1,9})")));
        }

        /** The ids in {@code path} when it is this route's path, else null. */
        List<String> match(String requestPath) {
            Matcher m = pattern.matcher(requestPath);
            if (!m.matches()) {
                return null;
            }
            return java.util.stream.IntStream.rangeClosed(1, m.groupCount()).mapToObj(m::group).toList();
        }
    }

    private static final Set<String> THROTTLE_ACTIONS = Set.of("pause", "resume", "workers");

    static final List<Route> ROUTES = List.of(
            read("/status", "per version: shards done / running / waiting / pending / failed / blocked; throttle; runners",
                    r -> Args.of("status")),
            new Route("GET", "/matrix", false, false, false, "matrix", "shards by version and state: [{version, state, shards}]",
                    r -> Args.of("status")),
            read("/shards", "shards, lowest id first: ?state=ready|running|waiting|failed&offset=N&limit=N (default 1000)",
                    r -> Args.of("shard", "list").option("state", r.query().text("state"))
                            .option("offset", r.query().number("offset"))
                            .option("limit", limitOf(r.query(), 1000))),
            read("/shards/{id}", "one shard: its version, state and latest run",
                    r -> Args.of("last-version").option("shard", r.id(0))),
            read("/shards/{id}/runs", "a shard's runs and online tasks: ?version=V&limit=N",
                    r -> Args.of("log").option("shard", r.id(0)).option("version", r.query().number("version"))
                            .option("limit", r.query().number("limit"))),
            // Reads that reach a shard's server are heavy: an anonymous client must not hold the permits /metrics
            // and status need while it waits on a slow or unreachable server.
            heavyRead("/shards/{id}/schema", "a shard's normalised schema and fingerprint: ?table=T",
                    r -> Args.of("schema", "get").option("shard", r.id(0)).option("table", r.query().text("table"))),
            heavyRead("/shards/{id}/diff", "unified diff to another shard (?with=ID) or to the expected schema (?version=V)",
                    r -> Args.of("diff").option("shard", r.id(0)).option("shard", r.query().number("with"))
                            .option("version", r.query().number("version"))),
            heavyRead("/shards/{id}/checksum", "schema fingerprint and CHECKSUM TABLE of each table (reads every row): ?table=T",
                    r -> Args.of("checksum").option("shard", r.id(0)).option("table", r.query().text("table"))),
            heavyRead("/shards/{id}/replicas", "the shard's schema on its primary against each of its replicas",
                    r -> Args.of("schema", "validate-shard").word(r.id(0))),
            read("/versions", "the versions and the statements they run", r -> Args.of("version", "list")),
            read("/runs", "the runs, newest first: ?shard=ID&version=V&limit=N (default 200)",
                    r -> Args.of("log").option("shard", r.query().number("shard"))
                            .option("version", r.query().number("version")).option("limit", r.query().number("limit"))),
            heavyRead("/drift", "read every shard and group by fingerprint: ?version=V&parallel=N",
                    r -> Args.of("schema", "validate").option("version", r.query().number("version"))
                            .option("parallel", r.query().number("parallel"))),
            heavyRead("/trash", "tables waiting in the pending-drops databases", r -> Args.of("trash", "list")),

            change("POST", "/init", false, "create or upgrade the catalog (idempotent)", r -> Args.of("init")),
            heavyChange("POST", "/versions", true, "register the next version: {table, command, type, rollback,"
                            + " validateQuery, expect, force, shard, noPreflight, options, autoApprove, autoCutover, finalInsert}",
                    r -> Args.of("version", "add").option("table", r.body().requiredText("table"))
                            .option("command", r.body().requiredText("command")).option("type", r.body().text("type"))
                            .option("rollback", r.body().text("rollback"))
                            .option("validate-query", r.body().text("validateQuery"))
                            .option("expect", r.body().text("expect")).flag("force", r.body().flag("force"))
                            .option("shard", r.body().number("shard")).flag("no-preflight", r.body().flag("noPreflight"))
                            .each("option", r.body().pairs("options"))
                            .flag("auto-approve", r.body().flag("autoApprove"))
                            .flag("auto-cutover", r.body().flag("autoCutover"))
                            .option("final-insert", r.body().text("finalInsert"))),
            change("POST", "/versions/{version}/approve", false, "open the approval gate: {shard} (default every shard)",
                    r -> Args.of("approve").word(r.id(0)).option("shard", r.body().number("shard"))),
            change("POST", "/versions/{version}/cutover", false, "open the cut-over gate: {shard} (default every shard)",
                    r -> Args.of("cutover").word(r.id(0)).option("shard", r.body().number("shard"))),
            change("POST", "/versions/{version}/cancel", false, "cancel started online tasks: {shard} (default every shard)",
                    r -> Args.of("cancel").word(r.id(0)).option("shard", r.body().number("shard"))),
            change("POST", "/shards", true, "register a shard: {schema, dsn, noCheck, replicas}",
                    r -> Args.of("shard", "add").option("schema", r.body().text("schema"))
                            .option("dsn", r.body().requiredText("dsn")).flag("no-check", r.body().flag("noCheck"))
                            .each("replica", r.body().texts("replicas"))),
            change("POST", "/shards/discover", true, "register every matching schema on a server: {dsn, like}",
                    r -> Args.of("shard", "discover").option("dsn", r.body().requiredText("dsn"))
                            .option("like", r.body().requiredText("like"))),
            change("DELETE", "/shards/{id}", false, "unregister a shard, its runs and replicas",
                    r -> Args.of("shard", "remove").word(r.id(0))),
            change("POST", "/shards/{id}/retry", false, "let a failed shard run again",
                    r -> Args.of("retry").option("shard", r.id(0))),
            change("POST", "/retry", false, "let failed shards run again: {shards: [ID...]} or {all: true}",
                    r -> Args.of("retry").each("shard", r.body().numbers("shards")).flag("all", r.body().flag("all"))),
            change("POST", "/throttle", false, "throttle the runners: {action: pause|resume|workers, workers: N}",
                    r -> throttle(r.body())),
            change("POST", "/down", false, "pin shards at a version, so runners roll back to it: {to, shard}",
                    r -> Args.of("down").option("to", r.body().requiredNumber("to")).option("shard", r.body().number("shard"))),
            change("POST", "/up", false, "release the pin, or move it: {to, shard}",
                    r -> Args.of("up").option("to", r.body().number("to")).option("shard", r.body().number("shard"))),
            change("POST", "/baseline", false, "mark a shard as at a version after checking its schema: {shard, version}",
                    r -> Args.of("baseline").option("shard", r.body().requiredNumber("shard"))
                            .option("version", r.body().requiredNumber("version"))),
            heavyChange("POST", "/preflight", false, "try a change in a scratch schema: {version} or {table, command}; {shard}",
                    r -> Args.of("preflight").option("version", r.body().number("version"))
                            .option("table", r.body().text("table")).option("command", r.body().text("command"))
                            .option("shard", r.body().number("shard"))),
            heavyChange("POST", "/trash/purge", false, "drop pending-drops tables older than {olderThan} (7d, 12h, ...)",
                    r -> Args.of("trash", "purge").option("older-than", r.body().text("olderThan"))));

    private ApiRoutes() {
    }

    private static Route read(String path, String description, Handler handler) {
        return new Route("GET", path, false, false, false, null, description, handler);
    }

    private static Route heavyRead(String path, String description, Handler handler) {
        return new Route("GET", path, false, true, false, null, description, handler);
    }

    private static Route change(String method, String path, boolean created, String description, Handler handler) {
        return new Route(method, path, true, false, created, null, description, handler);
    }

    private static Route heavyChange(String method, String path, boolean created, String description, Handler handler) {
        return new Route(method, path, true, true, created, null, description, handler);
    }

    private static Long limitOf(Fields query, long byDefault) {
        Long limit = query.number("limit");
        return limit == null ? byDefault : limit;
    }

    private static Args throttle(Fields body) {
        String action = body.requiredText("action");
        if (!THROTTLE_ACTIONS.contains(action)) {
            throw ApiError.badRequest("field 'action' must be pause, resume or workers");
        }
        Long workers = body.number("workers");
        if (action.equals("workers") != (workers != null)) {
            throw ApiError.badRequest("field 'workers' goes with action workers, and only with it");
        }
        Args a = Args.of("throttle").word(action);
        return workers == null ? a : a.word(workers);
    }
}
