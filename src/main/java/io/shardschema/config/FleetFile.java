package io.shardschema.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.fasterxml.jackson.core.util.JsonParserDelegate;
import io.shardschema.Printable;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import io.shardschema.ShardSchemaException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The desired state `apply` reads: a YAML file declaring shards (explicit, or discovered by a LIKE pattern on a
 * server) and the ordered versions, the first being version 1. Every field is checked here, before anything is
 * written: an unknown or mistyped field, a version without table or command, is an error naming the line.
 */
public record FleetFile(Path path, List<ShardEntry> shards, List<DiscoverRule> discover, boolean prune,
                        List<VersionEntry> versions) {
    /** Bigger files are refused before parsing: a fleet's declaration is a few hundred kilobytes at most. */
    static final long MAX_BYTES = 8L << 20;
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** One shard: {@code schema} on the server of {@code dsn} (the DSN's database when no schema is given). */
    public record ShardEntry(int line, String schema, String dsn, List<String> replicas) {
    }

    /** Every schema matching the SQL LIKE pattern {@code like} on the server of {@code dsn}. */
    public record DiscoverRule(int line, String dsn, String like) {
    }

    /** What a validation query must answer. */
    public record Validation(String query, String expect) {
    }

    /**
     * One version as declared, at {@code line} of the file; {@code command} is the file's text when the declaration
     * names a {@code file}. The rest as `version add` takes it.
     */
    public record VersionEntry(int line, int number, String table, String command, String type,
                               Map<String, String> options, boolean autoApprove, boolean autoCutover,
                               String finalInsert, Validation validate, String rollback, boolean force,
                               boolean preflight) {
    }

    // What the file says, bound field by field (plain classes, not records: Jackson reads records' fields into a
    // buffer first, and would then place an unknown field at the end of its entry).

    /** An entry of a list, checked once read, knowing its position (1-based). */
    private interface Fields {
        void check(int position);
    }

    private static final class ShardFields implements Fields {
        public String schema;
        public String dsn;
        public List<String> replicas;

        @Override
        public void check(int position) {
            require(dsn, "dsn", "a shard");
            if (replicas != null && replicas.stream().anyMatch(r -> r == null || r.isBlank())) {
                throw new IllegalArgumentException("a replica is empty");
            }
        }
    }

    private static final class DiscoverFields implements Fields {
        public String dsn;
        public String like;

        @Override
        public void check(int position) {
            require(dsn, "dsn", "a discover rule");
            require(like, "like", "a discover rule");
        }
    }

    private static final class ValidationFields {
        public String query;
        public String expect;
    }

    private static final class VersionFields implements Fields {
        public Integer version;
        public String table;
        public String command;
        public String file;
        public String type;
        public Map<String, String> options;
        public Boolean autoApprove;
        public Boolean autoCutover;
        public String finalInsert;
        public ValidationFields validate;
        public String rollback;
        public Boolean force;
        public Boolean preflight;

        /** A declared {@code version:} must be its position: versions are numbered by their order. */
        @Override
        public void check(int position) {
            require(table, "table", "a version");
            if ((command == null) == (file == null)) {
                throw new IllegalArgumentException("a version needs exactly one of command and file");
            }
            if (type != null && !type.equals("sql") && !type.equals("pt-osc")) {
                throw new IllegalArgumentException("type " + Printable.escape(type) + " is unknown; use sql or pt-osc");
            }
            if (version != null && version != position) {
                throw new IllegalArgumentException("version: " + version + " is entry " + position
                        + " of the list; versions are numbered by their order");
            }
            if (options != null && options.values().stream().anyMatch(o -> o == null)) {
                throw new IllegalArgumentException("an option has no value");
            }
            if (validate != null) {
                require(validate.query, "query", "validate");
                require(validate.expect, "expect", "validate");
            }
        }
    }

    /** An entry with the line it starts at. */
    private record Located<T>(int line, T fields) {
    }

    private static final class Document {
        @JsonDeserialize(using = ShardsReader.class)
        public List<Located<ShardFields>> shards;
        @JsonDeserialize(using = DiscoverReader.class)
        public List<Located<DiscoverFields>> discover;
        public Boolean prune;
        @JsonDeserialize(using = VersionsReader.class)
        public List<Located<VersionFields>> versions;
    }

    /** Reads a list keeping each entry's line, and checks each entry there, so an error names its line. */
    private abstract static class ListReader<T extends Fields> extends JsonDeserializer<List<Located<T>>> {
        private final Class<T> type;
        private final String name;

        ListReader(Class<T> type, String name) {
            this.type = type;
            this.name = name;
        }

        @Override
        public List<Located<T>> deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (!p.isExpectedStartArrayToken()) {
                throw JsonMappingException.from(p, name + " must be a list");
            }
            List<Located<T>> out = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                JsonLocation start = p.currentTokenLocation();
                T fields = ctxt.readValue(p, type);
                String entry = name + " entry " + (out.size() + 1);
                if (fields == null) {
                    throw new JsonMappingException(p, entry + " is empty", start);
                }
                try {
                    fields.check(out.size() + 1);
                } catch (IllegalArgumentException e) {
                    throw new JsonMappingException(p, entry + ": " + e.getMessage(), start);
                }
                out.add(new Located<>(start.getLineNr(), fields));
            }
            return out;
        }
    }

    private static final class ShardsReader extends ListReader<ShardFields> {
        ShardsReader() {
            super(ShardFields.class, "shards");
        }
    }

    private static final class DiscoverReader extends ListReader<DiscoverFields> {
        DiscoverReader() {
            super(DiscoverFields.class, "discover");
        }
    }

    private static final class VersionsReader extends ListReader<VersionFields> {
        VersionsReader() {
            super(VersionFields.class, "versions");
        }
    }

    private static void require(String value, String field, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " needs " + field);
        }
    }

    /**
     * Refuses YAML aliases ({@code *name}): Jackson would read one as the anchor's name, a string, so that
     * {@code like: *apps} would match nothing and, with prune, remove shards.
     */
    private static final class NoAliases extends JsonParserDelegate {
        NoAliases(JsonParser p) {
            super(p);
        }

        @Override
        public JsonToken nextToken() throws IOException {
            JsonToken t = super.nextToken();
            if (delegate instanceof YAMLParser y && y.isCurrentAlias()) {
                throw new JsonMappingException(this, "YAML aliases (*name) are not supported: write the value out",
                        currentTokenLocation());
            }
            return t;
        }
    }

    /** Reads and checks the file; a malformed one is a usage error (exit 2) naming the line and the field. */
    public static FleetFile read(Path file) {
        String name = Printable.escape(file.toString());
        Document doc;
        String text;
        try {
            text = readBounded(file, MAX_BYTES, name);
            doc = text.isBlank() ? null : YAML.readValue(new NoAliases(YAML.getFactory().createParser(text)),
                    Document.class);
        } catch (JsonProcessingException e) {
            throw ShardSchemaException.usage(name + ": " + describe(e) + "; nothing was written");
        } catch (IOException e) {
            throw ShardSchemaException.usage("cannot read " + name + ": " + Printable.escape(String.valueOf(e.getMessage())));
        }
        if (doc == null) {
            throw ShardSchemaException.usage(name + " is empty: declare shards, discover rules or versions");
        }
        List<ShardEntry> shards = list(doc.shards).stream().map(l -> new ShardEntry(l.line(), l.fields().schema,
                l.fields().dsn, list(l.fields().replicas))).toList();
        List<DiscoverRule> discover = list(doc.discover).stream().map(l -> new DiscoverRule(l.line(), l.fields().dsn,
                l.fields().like)).toList();
        List<VersionEntry> versions = new ArrayList<>();
        // One budget for the file and every file its versions name.
        long budget = MAX_BYTES - text.getBytes(StandardCharsets.UTF_8).length;
        for (Located<VersionFields> v : list(doc.versions)) {
            VersionEntry e = entry(file, v, versions.size() + 1, budget);
            budget -= v.fields().file == null ? 0 : e.command().getBytes(StandardCharsets.UTF_8).length;
            versions.add(e);
        }
        return new FleetFile(file, shards, discover, Boolean.TRUE.equals(doc.prune), List.copyOf(versions));
    }

    /**
     * A regular file's text (UTF-8, strictly), refused past {@code limit} bytes (read so, not trusted from its
     * size: a FIFO or a device says 0) or when it is not a regular file.
     */
    private static String readBounded(Path file, long limit, String name) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(Files.exists(file) ? "not a regular file" : "no such file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes((int) Math.max(0, Math.min(Integer.MAX_VALUE - 8, limit + 1)));
            if (bytes.length > limit) {
                throw ShardSchemaException.usage(name + " is too large: the desired state and the files its versions"
                        + " name may hold " + (MAX_BYTES >> 20) + " MB in all");
            }
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new IOException("not UTF-8 text");
            }
        }
    }

    /**
     * A version's {@code file:}, which must lie in the desired-state file's directory or below (symbolic links
     * followed): a file from a pull request must not make apply read, and print, any file of the machine.
     */
    private static VersionEntry entry(Path file, Located<VersionFields> located, int number, long budget) {
        VersionFields f = located.fields();
        String command = f.command;
        if (f.file != null) {
            Path dir = file.toAbsolutePath().getParent();
            Path source = dir.resolve(f.file);
            String name = Printable.escape(source.toString());
            String where = Printable.escape(file.toString()) + " line " + located.line() + ": cannot read the file"
                    + " of version " + number + ", " + name + ": ";
            try {
                if (!source.toRealPath().startsWith(dir.toRealPath())) {
                    throw ShardSchemaException.usage(where + "it is not in " + Printable.escape(dir.toString())
                            + " or below, where the files of versions must be; nothing was written");
                }
                command = readBounded(source, budget, name);
            } catch (NoSuchFileException e) {
                throw ShardSchemaException.usage(where + "no such file; nothing was written");
            } catch (IOException e) {
                throw ShardSchemaException.usage(where + Printable.escape(String.valueOf(e.getMessage()))
                        + "; nothing was written");
            }
        }
        return new VersionEntry(located.line(), number, f.table, command, f.type == null ? "sql" : f.type,
                f.options == null ? Map.of() : Map.copyOf(f.options), Boolean.TRUE.equals(f.autoApprove),
                Boolean.TRUE.equals(f.autoCutover), f.finalInsert,
                f.validate == null ? null : new Validation(f.validate.query, f.validate.expect), f.rollback,
                Boolean.TRUE.equals(f.force), !Boolean.FALSE.equals(f.preflight));
    }

    private static <T> List<T> list(List<T> items) {
        return items == null ? List.of() : List.copyOf(items);
    }

    /** "line L, field F: what is wrong", from Jackson's exception; no value of the file is echoed but names. */
    static String describe(JsonProcessingException e) {
        String where = e.getLocation() == null ? "" : "line " + e.getLocation().getLineNr() + ", ";
        String field = e instanceof JsonMappingException m ? path(m) : "";
        String what;
        MarkedYAMLException y = null;
        for (Throwable t = e; t != null && y == null; t = t.getCause()) {
            y = t instanceof MarkedYAMLException m && m.getProblemMark() != null ? m : null;
        }
        if (y != null) {
            // Not YAML: the parser's own words and the line where it gave up.
            field = "";
            where = "line " + (y.getProblemMark().getLine() + 1) + ", ";
            what = "not valid YAML: " + Printable.escape((y.getContext() == null ? "" : y.getContext() + ": ")
                    + y.getProblem());
        } else if (e instanceof UnrecognizedPropertyException u) {
            what = "unknown field " + Printable.escape(u.getPropertyName()) + "; known: " + u.getKnownPropertyIds()
                    .stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
        } else {
            what = Printable.escape(e.getOriginalMessage().lines().findFirst().orElse("malformed"));
        }
        return where + (field.isEmpty() ? "" : "field " + field + ": ") + what;
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            } else if (r.getFieldName() != null) {
                sb.append(sb.isEmpty() ? "" : ".").append(Printable.escape(r.getFieldName()));
            }
        }
        return sb.toString();
    }
}
