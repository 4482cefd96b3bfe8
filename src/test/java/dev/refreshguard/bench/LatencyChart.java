package dev.refreshguard.bench;

import java.util.List;
import java.util.Locale;

import dev.refreshguard.bench.Latencies.Stats;

/** A hand-written SVG: refresh latency percentiles and throughput of both realms, with the ratios protected/stock. */
final class LatencyChart {

    private static final String PROTECTED = "#2563eb";
    private static final String STOCK = "#6b7280";
    private static final String REFERENCE = "#d1d5db";
    private static final String MISSED = "#b91c1c";
    private static final int WIDTH = 820;
    private static final int HEIGHT = 440;
    private static final int TOP = 110;
    private static final int BOTTOM = 360;

    private LatencyChart() {
    }

    static String svg(Results r) {
        StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(HEIGHT)
                .append("\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n");
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        text(svg, 20, 30, "start", 17, "bold", "#111827", "refresh-guard: refresh latency and throughput, protected vs stock Keycloak");
        text(svg, 20, 52, "start", 12, "normal", "#374151", String.format(Locale.ROOT,
                "%d concurrent clients, %d refreshes per realm, same server, interleaved rounds (mode %s, %s cores, load %s)",
                r.settings().clients(), r.refreshProtected().requests(), r.settings().mode(), r.machine().cores(),
                r.loadBefore()));
        legend(svg, 20, 78);

        Stats p = r.refreshProtected();
        Stats s = r.refreshStock();
        Stats d = r.refreshReference();
        List<Group> latency = List.of(
                new Group("p50", p.p50(), s.p50(), d.p50(), r.ratio(Stats::p50), r.p50Met()),
                new Group("p95", p.p95(), s.p95(), d.p95(), r.ratio(Stats::p95), true),
                new Group("p99", p.p99(), s.p99(), d.p99(), r.ratio(Stats::p99), r.p99Met()));
        panel(svg, 70, 530, "refresh latency (ms)", latency, "%.1f");
        panel(svg, 620, 800, "throughput (req/s)", List.of(new Group("throughput", p.throughput(), s.throughput(),
                d.throughput(), r.ratio(Stats::throughput), r.throughputMet())), "%.0f");
        text(svg, 20, HEIGHT - 12, "start", 11, "normal", "#6b7280", String.format(Locale.ROOT,
                "Ratios are protected / stock. Targets: p50 ≤ %.2f×, p99 ≤ %.2f×, throughput ≥ %.2f×; a ratio in red misses its target.",
                Results.TARGET_P50, Results.TARGET_P99, Results.TARGET_THROUGHPUT));
        svg.append("</svg>\n");
        return svg.toString();
    }

    private record Group(String label, double protectedValue, double stockValue, double referenceValue, double ratio,
                         boolean met) {
    }

    private static void panel(StringBuilder svg, int left, int right, String axis, List<Group> groups, String valueFormat) {
        double max = groups.stream().mapToDouble(g -> Math.max(g.referenceValue(), Math.max(g.protectedValue(), g.stockValue())))
                .max().orElse(1);
        double step = niceStep(max / 5);
        double top = Math.max(step, Math.ceil(max * 1.12 / step) * step);
        for (double tick = 0; tick <= top + step / 2; tick += step) {
            double y = y(tick, top);
            svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e7eb\"/>\n",
                    left, y, right, y));
            text(svg, left - 6, y + 4, "end", 11, "normal", "#6b7280", format(tick, step < 1 ? "%.1f" : "%.0f"));
        }
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#374151\"/>\n",
                left, BOTTOM, right, BOTTOM));
        text(svg, left, TOP - 12, "start", 12, "bold", "#111827", axis);
        double groupWidth = (right - left) / (double) groups.size();
        double bar = Math.min(44, groupWidth / 4);
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            double centre = left + groupWidth * (i + 0.5);
            bar(svg, centre - 1.5 * bar - 4, bar, g.protectedValue(), top, PROTECTED, valueFormat);
            bar(svg, centre - 0.5 * bar, bar, g.stockValue(), top, STOCK, valueFormat);
            bar(svg, centre + 0.5 * bar + 4, bar, g.referenceValue(), top, REFERENCE, valueFormat);
            text(svg, centre, BOTTOM + 18, "middle", 12, "bold", "#111827", g.label());
            text(svg, centre, BOTTOM + 36, "middle", 12, "bold", g.met() ? "#111827" : MISSED,
                    String.format(Locale.ROOT, "%.3f×", g.ratio()));
        }
    }

    private static void bar(StringBuilder svg, double x, double width, double value, double top, String colour, String format) {
        double y = y(value, top);
        svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                x, y, width, BOTTOM - y, colour));
        text(svg, x + width / 2, y - 4, "middle", 11, "normal", "#111827", format(value, format));
    }

    private static void legend(StringBuilder svg, int x, int y) {
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x, y - 10, PROTECTED));
        text(svg, x + 17, y, "start", 12, "normal", "#111827", "protected");
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x + 100, y - 10, STOCK));
        text(svg, x + 117, y, "start", 12, "normal", "#111827", "stock (Keycloak's Revoke Refresh Token on)");
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", x + 400, y - 10, REFERENCE));
        text(svg, x + 417, y, "start", 12, "normal", "#111827", "reference: Keycloak defaults, reuse not detected");
    }

    private static double y(double value, double top) {
        return BOTTOM - (BOTTOM - TOP) * (value / top);
    }

    /** 1, 2 or 5 times a power of ten: axis ticks people can read. */
    static double niceStep(double raw) {
        if (raw <= 0 || Double.isNaN(raw) || Double.isInfinite(raw)) {
            return 1;
        }
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double fraction = raw / magnitude;
        double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
        return nice * magnitude;
    }

    private static String format(double value, String format) {
        return String.format(Locale.ROOT, format, value);
    }

    private static void text(StringBuilder svg, double x, double y, String anchor, int size, String weight, String colour,
                             String content) {
        svg.append(String.format(Locale.ROOT,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\" font-weight=\"%s\" fill=\"%s\">%s</text>\n",
                x, y, anchor, size, weight, colour, escape(content)));
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
