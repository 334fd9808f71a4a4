package io.shardschema.config;

import io.shardschema.ShardSchemaException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PEM client certificate and key ({@code ssl-cert}, {@code ssl-key}, as MySQL clients take them) turned into the
 * PKCS#12 key store MariaDB Connector/J needs. The store is a private temporary file (mode 0600, removed at exit)
 * with a random password that lives only in memory; one per certificate/key pair.
 */
final class ClientCertificate {
    /** Where a key store lives and the password that opens it. */
    record KeyStoreFile(Path path, String password) {
    }

    private static final Map<String, KeyStoreFile> STORES = new ConcurrentHashMap<>();
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]+)-----END \\1-----");
    /** DER prefix of a PKCS#8 wrapper's algorithm identifier for RSA: SEQUENCE { OID rsaEncryption, NULL }. */
    private static final byte[] RSA_ALGORITHM = HexFormat.of().parseHex("300d06092a864886f70d0101010500");

    private ClientCertificate() {
    }

    static KeyStoreFile keyStore(String certFile, String keyFile) {
        return STORES.computeIfAbsent(certFile + "\n" + keyFile, k -> build(Path.of(certFile), Path.of(keyFile)));
    }

    private static KeyStoreFile build(Path certFile, Path keyFile) {
        try {
            Certificate[] chain;
            try (InputStream in = Files.newInputStream(certFile)) {
                chain = CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(Certificate[]::new);
            }
            if (chain.length == 0) {
                throw ShardSchemaException.usage("ssl-cert " + certFile + " holds no PEM certificate");
            }
            PrivateKey key = readKey(keyFile);
            String password = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("client", key, password.toCharArray(), chain);
            Path file = Files.createTempFile("shardschema-client", ".p12",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            file.toFile().deleteOnExit();
            try (OutputStream out = Files.newOutputStream(file)) {
                store.store(out, password.toCharArray());
            }
            return new KeyStoreFile(file, password);
        } catch (IOException | GeneralSecurityException e) {
            throw ShardSchemaException.usage("cannot use client certificate " + certFile + " with key " + keyFile
                    + ": " + e.getMessage());
        }
    }

    private static PrivateKey readKey(Path keyFile) throws IOException, GeneralSecurityException {
        Matcher m = PEM.matcher(Files.readString(keyFile));
        if (!m.find()) {
            throw ShardSchemaException.usage("ssl-key " + keyFile + " holds no PEM private key");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(2).strip());
        String kind = m.group(1);
        if (kind.equals("RSA PRIVATE KEY")) {
            der = pkcs1ToPkcs8(der);
        } else if (!kind.equals("PRIVATE KEY")) {
            throw ShardSchemaException.usage("ssl-key " + keyFile + ": a '" + kind + "' is not supported; convert it with"
                    + " `openssl pkcs8 -topk8 -nocrypt`");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : new String[]{"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw ShardSchemaException.usage("ssl-key " + keyFile + " is not an RSA, EC or Ed25519 private key");
    }

    /** Wraps a PKCS#1 RSA key in PKCS#8: SEQUENCE { INTEGER 0, rsaEncryption, OCTET STRING { key } }. */
    private static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[]{0x02, 0x01, 0x00});
        body.writeBytes(RSA_ALGORITHM);
        body.writeBytes(der(0x04, pkcs1));
        return der(0x30, body.toByteArray());
    }

    private static byte[] der(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n & 0xff);
        } else {
            out.write(0x83);
            out.write(n >> 16);
            out.write((n >> 8) & 0xff);
            out.write(n & 0xff);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }
}
