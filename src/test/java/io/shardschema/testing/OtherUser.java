package io.shardschema.testing;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Files that belong to another local user ({@code nobody}), for tests of what ShardSchema trusts. Needs root. */
public final class OtherUser {
    private OtherUser() {
    }

    /** Gives {@code p} (not what a link points to) to nobody; skips the test unless it runs as root. */
    public static Path give(Path p) throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "only root can give a file to another user");
        Files.getFileAttributeView(p, java.nio.file.attribute.PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setOwner(FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        return p;
    }
}
