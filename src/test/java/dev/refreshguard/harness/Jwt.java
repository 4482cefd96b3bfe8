package dev.refreshguard.harness;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.function.Consumer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** What an attacker can do to a JWT without Keycloak's keys: edit it, strip its signature, sign it with a key of their own. */
public final class Jwt {

    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();
    private static final SecureRandom RANDOM = new SecureRandom();

    private Jwt() {
    }

    public static ObjectNode header(String jwt) {
        return part(jwt, 0);
    }

    public static ObjectNode payload(String jwt) {
        return part(jwt, 1);
    }

    /** The signature segment: the part of a token that must never appear in a log. */
    public static String signature(String jwt) {
        String[] parts = jwt.split("\\.", -1);
        return parts.length == 3 ? parts[2] : "";
    }

    /** The payload edited, the original header and signature kept: what a forger of claims produces. */
    public static String editPayload(String jwt, Consumer<ObjectNode> edit) {
        String[] parts = jwt.split("\\.", -1);
        ObjectNode payload = payload(jwt);
        edit.accept(payload);
        return parts[0] + "." + encode(payload) + "." + parts[2];
    }

    /** The header edited, payload and signature kept. */
    public static String editHeader(String jwt, Consumer<ObjectNode> edit) {
        String[] parts = jwt.split("\\.", -1);
        ObjectNode header = header(jwt);
        edit.accept(header);
        return encode(header) + "." + parts[1] + "." + parts[2];
    }

    /** The header says {@code alg: <none>}; the signature is dropped or kept. */
    public static String unsigned(String jwt, String noneSpelling, boolean keepSignature) {
        String[] parts = jwt.split("\\.", -1);
        ObjectNode header = header(jwt);
        header.put("alg", noneSpelling);
        return encode(header) + "." + parts[1] + "." + (keepSignature ? parts[2] : "");
    }

    /** The original header and payload, signed with an HMAC key Keycloak never saw. */
    public static String resignedWithRandomKey(String jwt, String alg) {
        byte[] key = new byte[64];
        RANDOM.nextBytes(key);
        String[] parts = jwt.split("\\.", -1);
        ObjectNode header = header(jwt);
        header.put("alg", alg);
        String input = encode(header) + "." + parts[1];
        String javaAlg = switch (alg) {
            case "HS256" -> "HmacSHA256";
            case "HS384" -> "HmacSHA384";
            case "HS512" -> "HmacSHA512";
            default -> throw new IllegalArgumentException(alg);
        };
        try {
            Mac mac = Mac.getInstance(javaAlg);
            mac.init(new SecretKeySpec(key, javaAlg));
            return input + "." + ENCODER.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String encode(JsonNode json) {
        return ENCODER.encodeToString(json.toString().getBytes(StandardCharsets.UTF_8));
    }

    public static String encode(String text) {
        return ENCODER.encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static ObjectNode part(String jwt, int index) {
        try {
            return (ObjectNode) Http.JSON.readTree(DECODER.decode(jwt.split("\\.", -1)[index]));
        } catch (Exception e) {
            throw new AssertionError("not a JWT: " + jwt, e);
        }
    }
}
