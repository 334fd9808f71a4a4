package io.shardschema.config;

import com.sun.security.auth.module.UnixSystem;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/**
 * The local files ShardSchema writes and obeys (the throttle and stop files, run logs, pt-osc's option and pause
 * files), guarded against other local users: no symbolic link is followed; a directory it creates is private
 * (0700); a file or directory owned by another user, or writable by others, is refused with the reason.
 */
public final class LocalFiles {
    private static final LinkOption[] NO_FOLLOW = {LinkOption.NOFOLLOW_LINKS};
    /** The sticky bit is not in PosixFilePermission; "unix:mode" has it. */
    private static final int STICKY = 01000;
    private static final long ROOT = 0;
    /** This process's user id. */
    private static final long ME = new UnixSystem().getUid();

    private LocalFiles() {
    }

    /**
     * Makes {@code dir} (and missing parents, mode 0700) unless it exists, and checks that it is this user's alone: a
     * real directory (not a link), owned by this user, writable by nobody else. For folders that hold run logs and
     * password files.
     */
    public static Path privateDirectory(Path dir) throws IOException {
        create(dir);
        PosixFileAttributes a = attributes(dir);
        if (!a.isDirectory()) {
            throw new IOException(dir + " is " + kind(a) + ", not a directory; ShardSchema follows no links there");
        }
        if (uid(dir) != ME) {
            throw new IOException(dir + " is owned by " + a.owner().getName() + ", not by this user (uid " + ME
                    + "): use a directory of your own");
        }
        if (writableByOthers(a)) {
            throw new IOException(dir + " is writable by other users (" + PosixFilePermissions.toString(a.permissions())
                    + "): make it private (chmod 700 " + dir + ")");
        }
        return dir;
    }

    /**
     * Makes {@code dir} (mode 0700) unless it exists, and checks that no other user can replace the files in it: a
     * directory owned by this user or root, either writable by nobody else or sticky (as /tmp: others may add files,
     * but neither replace nor remove ours). For the throttle and stop files, which other users may need to read.
     */
    public static Path sharedDirectory(Path dir) throws IOException {
        create(dir);
        Optional<String> why = untrustedDirectory(dir);
        if (why.isPresent()) {
            throw new IOException(why.get());
        }
        return dir;
    }

    /**
     * Why the existing {@code file} cannot be trusted (a link or not a regular file, owned by a user other than this
     * one or root, writable by others, or in a directory where others could replace it), or empty.
     */
    public static Optional<String> untrusted(Path file) throws IOException {
        PosixFileAttributes a = attributes(file);
        if (!a.isRegularFile()) {
            return Optional.of(file + " is " + kind(a) + ", not a regular file; ShardSchema follows no links there");
        }
        if (!trustedOwner(file)) {
            return Optional.of(file + " is owned by " + a.owner().getName() + ", not by this user (uid " + ME
                    + ") or root");
        }
        if (writableByOthers(a)) {
            return Optional.of(file + " is writable by other users (" + PosixFilePermissions.toString(a.permissions())
                    + ")");
        }
        return untrustedDirectory(file.toAbsolutePath().getParent());
    }

    /**
     * Whether {@code file} is another user's (not this one's, not root's) in a sticky directory others may write,
     * as /tmp: there anyone may add a file under any free name, so such a file says nothing of the DBA's wishes (and
     * obeying it would let any local user pause or stop the runners for good), while files of this user there
     * cannot be replaced by others.
     */
    public static boolean plantedInSharedDirectory(Path file) throws IOException {
        if (!Files.exists(file, NO_FOLLOW) || trustedOwner(file)) {
            return false;
        }
        Path dir = file.toAbsolutePath().getParent();
        PosixFileAttributes a = attributes(dir);
        return writableByOthers(a) && ((int) Files.getAttribute(dir, "unix:mode", NO_FOLLOW) & STICKY) != 0;
    }

    /** Creates {@code file} with {@code text} in a private directory; fails if anything (a link too) is there. */
    public static void createNew(Path file, String text) throws IOException {
        privateDirectory(file.toAbsolutePath().getParent());
        Files.writeString(file, text, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    private static Optional<String> untrustedDirectory(Path dir) throws IOException {
        PosixFileAttributes a = attributes(dir);
        if (!a.isDirectory()) {
            return Optional.of(dir + " is " + kind(a) + ", not a directory; ShardSchema follows no links there");
        }
        if (!trustedOwner(dir)) {
            return Optional.of("its directory " + dir + " is owned by " + a.owner().getName() + ", not by this user"
                    + " (uid " + ME + ") or root");
        }
        if (writableByOthers(a) && ((int) Files.getAttribute(dir, "unix:mode", NO_FOLLOW) & STICKY) == 0) {
            return Optional.of("its directory " + dir + " is writable by other users ("
                    + PosixFilePermissions.toString(a.permissions()) + "), who could replace it");
        }
        return Optional.empty();
    }

    private static void create(Path dir) throws IOException {
        if (!Files.exists(dir, NO_FOLLOW)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

    private static PosixFileAttributes attributes(Path p) throws IOException {
        try {
            return Files.readAttributes(p, PosixFileAttributes.class, NO_FOLLOW);
        } catch (UnsupportedOperationException e) {
            throw new IOException(p + ": this file system has no owners and modes, so ShardSchema cannot tell whether"
                    + " other users may write there");
        }
    }

    private static boolean writableByOthers(PosixFileAttributes a) {
        Set<PosixFilePermission> p = a.permissions();
        return p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE);
    }

    private static boolean trustedOwner(Path p) throws IOException {
        long uid = uid(p);
        return uid == ME || uid == ROOT;
    }

    private static long uid(Path p) throws IOException {
        return (int) Files.getAttribute(p, "unix:uid", NO_FOLLOW);
    }

    private static String kind(PosixFileAttributes a) {
        return a.isSymbolicLink() ? "a symbolic link" : a.isDirectory() ? "a directory" : a.isOther() ? "a special file"
                : "a file";
    }
}
