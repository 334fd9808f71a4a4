package io.shardschema.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The named inputs of one request (a JSON body's fields, or the query string's parameters), read by type. Every
 * read marks its name as known; {@link #rejectUnknown()} then refuses any other, so a misspelt field is an error
 * instead of being silently ignored.
 */
final class Fields {
    private final JsonNode node;
    private final String what;
    private final Set<String> known = new HashSet<>();
    /** Query parameters are all text; a body's numbers must be JSON numbers. */
    private final boolean queryString;

    private Fields(JsonNode node, String what, boolean queryString) {
        this.node = node;
        this.what = what;
        this.queryString = queryString;
    }

    /** A request body: a JSON object, or nothing (an empty body has no fields). */
    static Fields body(JsonNode body) {
        if (body != null && !body.isObject()) {
            throw ApiError.badRequest("the request body must be a JSON object");
        }
        return new Fields(body == null ? JsonNodeFactory.instance.objectNode() : body, "field", false);
    }

    /** Query parameters: each a single string. */
    static Fields query(Map<String, String> params) {
        var node = JsonNodeFactory.instance.objectNode();
        params.forEach(node::put);
        return new Fields(node, "parameter", true);
    }

    String text(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiError.badRequest(what + " '" + name + "' must be a string");
        }
        return v.asText();
    }

    String requiredText(String name) {
        return required(name, text(name));
    }

    Long requiredNumber(String name) {
        return required(name, number(name));
    }

    private <T> T required(String name, T value) {
        if (value == null) {
            throw ApiError.badRequest(what + " '" + name + "' is required");
        }
        return value;
    }

    /** A whole number: a JSON number in a body, digits in a query string. */
    Long number(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return null;
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.asLong();
        }
        if (queryString && v.isTextual() && v.asText().matches("-?\\d{1,18}")) {
            return Long.parseLong(v.asText());
        }
        throw ApiError.badRequest(what + " '" + name + "' must be a whole number");
    }

    boolean flag(String name) {
        JsonNode v = get(name);
        if (v == null) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiError.badRequest(what + " '" + name + "' must be true or false");
        }
        return v.asBoolean();
    }

    /** A list of strings (a JSON array). */
    List<String> texts(String name) {
        return list(name, JsonNode::isTextual, JsonNode::asText, "strings");
    }

    /** A list of whole numbers (a JSON array). */
    List<Long> numbers(String name) {
        return list(name, e -> e.isIntegralNumber() && e.canConvertToLong(), JsonNode::asLong, "whole numbers");
    }

    private <T> List<T> list(String name, java.util.function.Predicate<JsonNode> fits,
                             java.util.function.Function<JsonNode, T> value, String kind) {
        JsonNode v = get(name);
        List<T> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (!v.isArray()) {
            throw ApiError.badRequest(what + " '" + name + "' must be an array of " + kind);
        }
        for (JsonNode e : v) {
            if (!fits.test(e)) {
                throw ApiError.badRequest(what + " '" + name + "' must be an array of " + kind);
            }
            out.add(value.apply(e));
        }
        return out;
    }

    /** An object of string values, as name=value pairs. */
    List<String> pairs(String name) {
        JsonNode v = get(name);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (!v.isObject()) {
            throw ApiError.badRequest(what + " '" + name + "' must be an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual() && !e.getValue().isNumber()) {
                throw ApiError.badRequest(what + " '" + name + "." + e.getKey() + "' must be a string");
            }
            out.add(e.getKey() + "=" + e.getValue().asText());
        }
        return out;
    }

    void rejectUnknown() {
        List<String> unknown = new ArrayList<>();
        node.fieldNames().forEachRemaining(n -> {
            if (!known.contains(n)) {
                unknown.add(n);
            }
        });
        if (!unknown.isEmpty()) {
            throw ApiError.badRequest("unknown " + what + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
                    + (known.isEmpty() ? "; this endpoint takes none" : "; known: " + String.join(", ", known.stream().sorted().toList())));
        }
    }

    private JsonNode get(String name) {
        known.add(name);
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : v;
    }
}
