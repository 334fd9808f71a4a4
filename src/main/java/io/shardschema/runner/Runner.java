package io.shardschema.runner;

import io.shardschema.ShardSchemaException;
import io.shardschema.catalog.Catalog;
import io.shardschema.catalog.Lease;
import io.shardschema.catalog.Version;
import io.shardschema.change.PtOsc;
import io.shardschema.config.Config;
import io.shardschema.config.LocalFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The dispatcher: claims tasks from the catalog and hands them to a bounded pool of workers, within the worker
 * count, the throttle, the stop file and the per-server budget; keeps the leases of its tasks alive with
 * heartbeats; takes over tasks whose runner stopped heartbeating. Stops when nothing is left to do (or, with
 * follow, keeps polling).
 */
public final class Runner {
    private static final Logger log = LoggerFactory.getLogger(Runner.class);
    private static final long IDLE_POLL_MILLIS = 500;
    private static final long STALL_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Told about every finished task (the progress bar listens). */
    public interface Listener {
        void taskFinished(long shardId, int version, String outcome);
    }

    /** What one runner did. */
    public record Summary(String runner, int applied, int alreadyApplied, int retryLater, int failed, int refused,
                          int waiting, int leasesLost, int takeovers, long millis, long catalogMillis,
                          boolean stoppedByStopFile) {
        public int tasks() {
            return applied + alreadyApplied + retryLater + failed + refused + waiting + leasesLost;
        }
    }

    private final Catalog catalog;
    private final Config config;
    private final int workers;
    private final boolean follow;
    private final Listener listener;
    private final ThrottleControl control;
    private final Clock clock;
    /** pt-osc's pause file for this runner's online changes: present while the throttle file says pause. */
    private final Path pauseFile;
    private final String name;
    private final AtomicLong claimSeq = new AtomicLong();
    private final java.util.concurrent.ConcurrentSkipListMap<Integer, Version> versionCache =
            new java.util.concurrent.ConcurrentSkipListMap<>();
    private final Map<String, Lease> inFlight = new ConcurrentHashMap<>();
    private final Map<String, LeaseWatch> held = new ConcurrentHashMap<>();
    private final Map<String, Integer> perServer = new HashMap<>();
    /** Workers post here when they finish, so the dispatcher wakes at once (no lost wake-ups). */
    private final java.util.concurrent.BlockingQueue<String> finished = new java.util.concurrent.LinkedBlockingQueue<>();
    private final CatalogTimer timer = new CatalogTimer();
    private final AtomicInteger[] outcomes = new AtomicInteger[TaskWorker.Outcome.values().length];
    private int takeovers;
    private volatile boolean stopRequested;
    /** When the dispatcher next looks for stalled tasks (System.nanoTime); dispatcher thread only. */
    private long nextStallCheck = System.nanoTime();

    public Runner(Catalog catalog, Config config, int workers, boolean follow, Listener listener, Clock clock) {
        this.catalog = catalog;
        this.config = config;
        this.workers = workers;
        this.follow = follow;
        this.listener = listener;
        this.control = new ThrottleControl(config.throttlingFile(), config.stopFile());
        this.clock = clock;
        this.name = runnerName();
        this.pauseFile = config.logDir().resolve("pause-" + name.replaceAll("[^A-Za-z0-9_.-]", "_"));
        for (int i = 0; i < outcomes.length; i++) {
            outcomes[i] = new AtomicInteger();
        }
    }

    private static String runnerName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "unknown-host";
        }
        // Hosts of one deployment often share a long prefix: keep the end, which tells them apart.
        if (host.length() > 32) {
            host = host.substring(host.length() - 32);
        }
        String pid = ManagementFactory.getRuntimeMXBean().getName().split("@")[0];
        // Containers all run as pid 1: the random part is what makes two runners' lease tokens differ.
        return host + ":" + pid + ":" + java.util.UUID.randomUUID().toString().substring(0, 13);
    }

    public String name() {
        return name;
    }

    /**
     * Asks the runner to stop as the stop file does, even with --follow: it takes no new task and returns from
     * {@link #run()} once its running tasks have ended. Safe from any thread (serve's shutdown calls it).
     */
    public void requestStop() {
        stopRequested = true;
        finished.offer("stop");
    }

    public Summary run() {
        long start = System.nanoTime();
        boolean stopped = false;
        ExecutorService pool = Executors.newFixedThreadPool(workers, daemonThreads("worker"));
        ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(daemonThreads("heartbeat"));
        ShardConnections shards = new ShardConnections(config, catalog.dsn(), config.perServerConcurrency());
        try {
            OnlineChange online = new OnlineChange(catalog, shards, config,
                    new PtOsc(config.ptOscPath(), pauseFile), () -> control.state().paused(), clock);
            TaskWorker worker = new TaskWorker(catalog, shards, online, this::version, config, name, timer);
            heartbeats.scheduleAtFixedRate(this::heartbeat, config.heartbeatSeconds(), config.heartbeatSeconds(),
                    TimeUnit.SECONDS);
            prepareLogDir();
            announce();
            log.info("runner {} started: {} workers, at most {} per server", name, workers, config.perServerConcurrency());
            long catalogDownSince = 0;
            while (true) {
                if (stopRequested && inFlight.isEmpty()) {
                    break;
                }
                if (stopRequested) {
                    stopped = true;
                } else if (control.stopRequested()) {
                    if (!stopped) {
                        log.info("stop file {} exists: taking no new task", config.stopFile());
                        stopped = true;
                    }
                } else {
                    stopped = false;
                }
                ThrottleControl.State throttle = control.state();
                pauseOnlineChanges(throttle.paused());
                int limit = throttle.limit(workers);
                boolean claimedAny = false;
                try {
                    if (!stopped && inFlight.size() < limit) {
                        claimedAny = dispatch(limit, pool, worker);
                    }
                    if (inFlight.isEmpty() && !claimedAny) {
                        if (stopped && !follow) {
                            break;
                        }
                        if (!follow && !stopped && limit > 0 && !timer.time(() -> catalog.outstandingWork(maxVersion()))) {
                            break;
                        }
                    }
                    catalogDownSince = 0;
                } catch (ShardSchemaException e) {
                    // The catalog is briefly unreachable (restart, failover): keep the leases and try again, for as
                    // long as a task may go without heartbeat; after that other runners would take our tasks anyway.
                    long now = System.nanoTime();
                    catalogDownSince = catalogDownSince == 0 ? now : catalogDownSince;
                    if (now - catalogDownSince > TimeUnit.SECONDS.toNanos(config.stallSeconds())) {
                        log.error("catalog unreachable for over {} s: stopping; running tasks end first",
                                config.stallSeconds());
                        throw e;
                    }
                    log.warn("catalog unavailable, retrying: {}", e.getMessage());
                }
                if (!claimedAny && finished.poll(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS) != null) {
                    finished.clear();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            // Every worker ends before what it uses closes, also when the dispatcher gave up on the catalog: closing
            // the shard pools would abort running statements and free the named locks that keep other runners off a
            // table while its pt-osc still copies. Heartbeats go on meanwhile, so a worker learns of a lost lease.
            pool.shutdown();
            awaitWorkers(pool);
            heartbeats.shutdownNow();
            shards.close();
            pauseOnlineChanges(false);
            try {
                catalog.runnerGone(name);
            } catch (RuntimeException e) {
                log.warn("could not remove runner {} from the catalog's runners: {}", name, e.getMessage());
            }
        }
        Summary s = new Summary(name, count(TaskWorker.Outcome.APPLIED), count(TaskWorker.Outcome.ALREADY_APPLIED),
                count(TaskWorker.Outcome.RETRY_LATER), count(TaskWorker.Outcome.FAILED), count(TaskWorker.Outcome.REFUSED),
                count(TaskWorker.Outcome.WAITING), count(TaskWorker.Outcome.LEASE_LOST), takeovers, (System.nanoTime() - start) / 1_000_000,
                timer.millis(), stopped);
        log.info("runner {} done: {}", name, s);
        return s;
    }

    /** Claims tasks until the limit is reached or nothing is claimable; true when it claimed at least one. */
    private boolean dispatch(int limit, ExecutorService pool, TaskWorker worker) {
        int maxVersion = maxVersion();
        int budget = config.perServerConcurrency();
        Set<String> excluded = new HashSet<>(timer.time(() -> catalog.saturatedServers(budget)));
        boolean any = false;
        while (inFlight.size() < limit) {
            excluded.addAll(locallyFull(budget));
            String token = name + "#" + claimSeq.incrementAndGet();
            Lease lease = timer.time(() -> takeOverStalled(token, budget)
                    .orElseGet(() -> maxVersion == 0 ? null
                            : catalog.claimNext(token, maxVersion, excluded).orElse(null)));
            if (lease == null) {
                return any;
            }
            if (!lease.takeover() && lease.runningOnServer() > budget) {
                // Another runner claimed on the same server at the same moment: give it back, try elsewhere.
                timer.time(() -> {
                    catalog.release(lease);
                    return null;
                });
                excluded.add(lease.serverKey());
                continue;
            }
            if (lease.takeover()) {
                takeovers++;
                log.warn("taking over stalled task: shard {} version {}", lease.shardId(), lease.targetVersion());
            }
            start(lease, pool, worker);
            any = true;
        }
        return any;
    }

    /**
     * Takes over a stalled task, looking at most once a second while none is found: a stall shows only after
     * stallSeconds, and the look is an UPDATE that would otherwise run before every claim.
     */
    private Optional<Lease> takeOverStalled(String token, int budget) {
        long now = System.nanoTime();
        if (now - nextStallCheck < 0) {
            return Optional.empty();
        }
        Optional<Lease> lease = catalog.takeOverStalled(token, config.stallSeconds(), locallyFull(budget));
        if (lease.isEmpty()) {
            nextStallCheck = now + STALL_CHECK_NANOS;
        }
        return lease;
    }

    private Set<String> locallyFull(int budget) {
        synchronized (perServer) {
            Set<String> full = new HashSet<>();
            perServer.forEach((server, n) -> {
                if (n >= budget) {
                    full.add(server);
                }
            });
            return full;
        }
    }

    private void start(Lease lease, ExecutorService pool, TaskWorker worker) {
        inFlight.put(lease.token(), lease);
        // Lost locally a heartbeat before another runner may take the task over.
        LeaseWatch leaseHeld = new LeaseWatch(System::nanoTime,
                TimeUnit.SECONDS.toNanos(config.stallSeconds() - config.heartbeatSeconds()));
        held.put(lease.token(), leaseHeld);
        synchronized (perServer) {
            perServer.merge(lease.serverKey(), 1, Integer::sum);
        }
        pool.execute(() -> {
            Lease current = lease;
            try {
                while (current != null) {
                    Lease task = current;
                    current = null;
                    TaskWorker.Outcome outcome = TaskWorker.Outcome.LEASE_LOST;
                    try {
                        TaskWorker.Result result = worker.work(task, leaseHeld::held, this::continuation);
                        outcome = result.outcome();
                        current = result.next();
                    } catch (RuntimeException e) {
                        // The end of the run could not be written (the catalog is unreachable): the lease stays, and
                        // a takeover finishes the task after the stall timeout.
                        log.error("shard {} version {}: could not record the run's end: {}", task.shardId(),
                                task.targetVersion(), e.toString());
                    }
                    outcomes[outcome.ordinal()].incrementAndGet();
                    if (outcome == TaskWorker.Outcome.FAILED || outcome == TaskWorker.Outcome.REFUSED) {
                        log.warn("shard {} failed at version {}; see `shardschema log --shard {}`", task.shardId(),
                                task.targetVersion(), task.shardId());
                    }
                    if (current != null) {
                        inFlight.put(current.token(), current);
                    }
                    if (outcome != TaskWorker.Outcome.POSTPONED) {
                        listener.taskFinished(task.shardId(), task.targetVersion(), outcome.name());
                    }
                }
            } finally {
                inFlight.remove(lease.token());
                held.remove(lease.token());
                synchronized (perServer) {
                    perServer.merge(lease.serverKey(), -1, Integer::sum);
                }
                finished.add(lease.token());
            }
        });
    }

    /**
     * The version a worker goes on with after applying {@code applied} to a shard, keeping its lease: the next one
     * in the catalog, unless the stop file, a pause or a lower worker limit says to take no new task (0).
     */
    private int continuation(int applied) {
        if (control.stopRequested() || inFlight.size() > control.state().limit(workers)) {
            return 0;
        }
        Integer next = versionCache.higherKey(applied);
        return next == null ? 0 : next;
    }

    private void prepareLogDir() {
        try {
            PtOsc.prepareWorkDir(config.logDir());
        } catch (IOException e) {
            // Only online changes need it; they fail with the reason when they try to write there.
            log.warn("logDir {}: {}", config.logDir(), e.getMessage());
        }
    }

    /** Creates or removes pt-osc's pause file: a pause in the throttle file pauses running copies too. */
    private void pauseOnlineChanges(boolean paused) {
        try {
            if (paused && !Files.exists(pauseFile, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                LocalFiles.createNew(pauseFile, "paused by the throttle file " + config.throttlingFile() + "\n");
            } else if (!paused) {
                Files.deleteIfExists(pauseFile);
            }
        } catch (IOException e) {
            log.warn("cannot update pt-osc's pause file {}: {}", pauseFile, e.getMessage());
        }
    }

    /** Tells the catalog this runner is alive, for `status` and the dashboard; a failure only costs that. */
    private void announce() {
        try {
            catalog.runnerAlive(name, workers);
        } catch (RuntimeException e) {
            log.warn("could not record runner {} in the catalog: {}", name, e.getMessage());
        }
    }

    private void heartbeat() {
        announce();
        for (Lease lease : inFlight.values()) {
            LeaseWatch watch = held.get(lease.token());
            if (watch == null) {
                continue;
            }
            long sentAt = System.nanoTime();
            try {
                // Only a lease still in flight as it was counts: a worker that moved on to the shard's next version
                // holds it under a new Lease. One whose worker closed the task a moment ago is flagged too, which
                // changes nothing for that worker: it is done with it.
                if (catalog.heartbeat(lease)) {
                    watch.confirmed(sentAt);
                } else if (inFlight.get(lease.token()) == lease && watch.lose()) {
                    log.warn("no longer holds the lease of shard {} version {}: taken over (or its task just ended)",
                            lease.shardId(), lease.targetVersion());
                }
            } catch (RuntimeException e) {
                // Never let an exception escape: it would cancel the heartbeat schedule for good.
                log.warn("heartbeat failed: {}", e.getMessage());
                if (watch.unconfirmed()) {
                    log.warn("the lease of shard {} version {} went unconfirmed for too long: counted as lost, its"
                            + " work stops", lease.shardId(), lease.targetVersion());
                }
            }
        }
    }

    /**
     * The highest version, with the cache of versions brought up to date: by count too, since two versions added
     * at once may commit out of order, and a continuation must never skip the one that came in late.
     */
    private int maxVersion() {
        Catalog.VersionTotals totals = timer.time(catalog::versionTotals);
        if (versionCache.size() != totals.count() || !versionCache.containsKey(totals.max())) {
            timer.time(catalog::versions).forEach(v -> versionCache.put(v.number(), v));
        }
        return totals.max();
    }

    private Version version(int number) {
        Version v = versionCache.get(number);
        if (v == null) {
            timer.time(catalog::versions).forEach(x -> versionCache.put(x.number(), x));
            v = versionCache.get(number);
        }
        if (v == null) {
            throw ShardSchemaException.error("version " + number + " is not in the catalog");
        }
        return v;
    }

    private int count(TaskWorker.Outcome o) {
        return outcomes[o.ordinal()].get();
    }

    /**
     * Waits for the workers to end, still following the throttle file meanwhile: a paused copy or swap must be able
     * to go on when the DBA resumes, also after the dispatcher stopped.
     */
    private void awaitWorkers(ExecutorService pool) {
        try {
            for (int seconds = 1; !pool.awaitTermination(1, TimeUnit.SECONDS); seconds++) {
                pauseOnlineChanges(control.state().paused());
                if (seconds % 30 == 0) {
                    log.info("waiting for running tasks to finish");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
