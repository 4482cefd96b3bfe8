package dev.refreshguard.reliability;

import java.time.Duration;
import java.util.function.Supplier;

import dev.refreshguard.harness.Http.Reply;

/** A request's answer and how long it took, from send to the last byte. */
record Timed(Reply reply, Duration elapsed) {

    static Timed timed(Supplier<Reply> request) {
        long start = System.nanoTime();
        Reply reply = request.get();
        return new Timed(reply, Duration.ofNanos(System.nanoTime() - start));
    }
}
