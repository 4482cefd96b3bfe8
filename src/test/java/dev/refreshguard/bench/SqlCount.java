package dev.refreshguard.bench;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.refreshguard.bench.onewrite.OneWriteListenerFactory;
import dev.refreshguard.store.FamilyLedger;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.TestRealm;

/**
 * Where the time of a request goes in the database: the SQL statements one steady-state request sends, counted in
 * the log of a server of its own that logs {@code org.hibernate.SQL} at DEBUG. Requests are sequential and nothing
 * else uses that server, so the log lines between the start and the answer of a request are that request's.
 */
final class SqlCount {

    /** What one kind of request sends: the fewest statements seen over a few requests, and what they were. */
    record Profile(String realm, String request, int statements, List<String> kinds) {
    }

    static final List<String> OPTIONS = List.of("--log-level=INFO,org.hibernate.SQL:debug," + FamilyLedger.SQL_LOG_CATEGORY
            + ":debug," + OneWriteListenerFactory.SQL_LOG_CATEGORY + ":debug");
    /** Hibernate's statements, refresh-guard's plain-JDBC ones (the rotate step), and the one-write realm's. */
    private static final List<String> SQL_CATEGORIES = List.of("[org.hibernate.SQL]", "[" + FamilyLedger.SQL_LOG_CATEGORY + "]",
            "[" + OneWriteListenerFactory.SQL_LOG_CATEGORY + "]");
    static final int SAMPLES = 5;

    private final DistributionServer server;

    private SqlCount(DistributionServer server) {
        this.server = server;
    }

    /** Starts a server of its own with SQL logging (and the one-write realm's provider), measures, and stops it. */
    static List<Profile> measure(int graceSeconds) {
        Path jar = OneWriteJar.build(Path.of(System.getProperty("it.work.dir", "target/it")).resolve("bench-providers"));
        DistributionServer server = DistributionServer.startFromCopy("bench-sql", "rg_bench_sql_" + System.currentTimeMillis(),
                OPTIONS, Map.of(), List.of(jar));
        try {
            OneWriteJar.createTable(server.jdbcUrl());
            return new SqlCount(server).profiles(BenchRealms.create(server, 1, graceSeconds, true));
        } finally {
            server.close();
        }
    }

    private List<Profile> profiles(BenchRealms realms) {
        String user = realms.users().get(0);
        List<Profile> out = new ArrayList<>();
        for (Map.Entry<String, TestRealm> realm : List.of(Map.entry("protected", realms.guarded()),
                Map.entry("stock", realms.stock()), Map.entry("stock, revoke off", realms.reference()),
                Map.entry("one-write reference", realms.oneWrite()))) {
            TokenClient client = new TokenClient(server, realm.getValue().name, BenchRealms.CLIENT);
            List<List<String>> logins = new ArrayList<>();
            String token = null;
            for (int i = 0; i < SAMPLES; i++) {
                long from = logSize();
                TokenClient.Answer login = client.password(user, user);
                logins.add(statementsSince(from));
                token = login.refreshToken();
            }
            out.add(profile(realm.getKey(), "login (password grant)", logins));
            List<List<String>> refreshes = new ArrayList<>();
            for (int i = 0; i < SAMPLES + 2; i++) {
                long from = logSize();
                token = refreshed(client.refresh(token), realm.getKey() + " refresh " + i);
                if (i >= 2) {
                    refreshes.add(statementsSince(from)); // the first ones fill Keycloak's caches
                }
            }
            out.add(profile(realm.getKey(), "refresh", refreshes));
        }
        TokenClient grace = new TokenClient(server, realms.guarded().name, BenchRealms.GRACE_CLIENT);
        String token = grace.password(user, user).refreshToken();
        List<List<String>> normal = new ArrayList<>();
        List<List<String>> replay = new ArrayList<>();
        for (int i = 0; i < SAMPLES + 2; i++) {
            long from = logSize();
            String successor = refreshed(grace.refresh(token), "grace client refresh " + i);
            List<String> first = statementsSince(from);
            from = logSize();
            String replayed = refreshed(grace.refresh(token), "grace replay " + i);
            List<String> again = statementsSince(from);
            if (!replayed.equals(successor)) {
                throw new IllegalStateException("SQL count: grace replay " + i + " returned another refresh token than the"
                        + " successor it replays: its statements would not be a grace replay's");
            }
            if (i >= 2) {
                normal.add(first);
                replay.add(again);
            }
            token = successor;
        }
        out.add(profile("protected, grace client", "refresh", normal));
        out.add(profile("protected, grace client", "grace replay", replay));
        return out;
    }

    /** The new refresh token; a failed refresh ends the SQL count, whose statements would be a failure's. */
    private static String refreshed(TokenClient.Answer answer, String what) {
        if (answer.status() != 200 || answer.refreshToken() == null) {
            throw new IllegalStateException("SQL count: " + what + " failed: " + answer.status() + " " + answer.body());
        }
        return answer.refreshToken();
    }

    private static Profile profile(String realm, String request, List<List<String>> samples) {
        List<String> fewest = samples.stream().min(Comparator.comparingInt(List::size)).orElse(List.of());
        return new Profile(realm, request, fewest.size(), fewest);
    }

    private long logSize() {
        return server.logFile().toFile().length();
    }

    /** The SQL statements logged since {@code offset}, each as verb and table, e.g. "update RG_FAMILY". */
    private List<String> statementsSince(long offset) {
        Path log = server.logFile();
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            byte[] bytes = new byte[(int) (file.length() - offset)];
            file.seek(offset);
            file.readFully(bytes);
            List<String> statements = new ArrayList<>();
            for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
                for (String category : SQL_CATEGORIES) {
                    int at = line.indexOf(category);
                    if (at >= 0) {
                        statements.add(kind(line.substring(line.indexOf(") ", at) + 2)));
                    }
                }
            }
            return statements;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String kind(String sql) {
        String lower = sql.toLowerCase(Locale.ROOT).trim();
        String verb = lower.startsWith("select") ? "select" : lower.startsWith("insert") ? "insert"
                : lower.startsWith("update") ? "update" : lower.startsWith("delete") ? "delete" : "other";
        Matcher table = switch (verb) {
            case "insert" -> Pattern.compile("(?i)insert into\\s+(\\w+)").matcher(sql);
            case "update" -> Pattern.compile("(?i)update\\s+(\\w+)").matcher(sql);
            default -> Pattern.compile("(?i)\\bfrom\\s+(\\w+)").matcher(sql);
        };
        String name = table.find() ? table.group(1).toUpperCase(Locale.ROOT) : "?";
        String lock = lower.contains(" for update") || lower.contains(" for no key update") ? " (row lock)" : "";
        return verb + " " + name + lock;
    }
}
