package dev.refreshguard.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** Id lists are cut into statements of at most 500 ids, in order, none lost. */
class SqlChunksTest {

    @Test
    void everyIdLandsInExactlyOneChunkOfAtMostTheLimit() {
        for (int size : new int[] {0, 1, Sql.CHUNK - 1, Sql.CHUNK, Sql.CHUNK + 1, 10_001}) {
            List<String> ids = IntStream.range(0, size).mapToObj(Integer::toString).toList();
            List<List<String>> chunks = Sql.chunks(ids);
            assertThat(chunks).allSatisfy(c -> assertThat(c).isNotEmpty().hasSizeLessThanOrEqualTo(Sql.CHUNK));
            assertThat(chunks).hasSize((size + Sql.CHUNK - 1) / Sql.CHUNK);
            List<String> joined = new ArrayList<>();
            chunks.forEach(joined::addAll);
            assertThat(joined).isEqualTo(ids);
        }
        assertThat(Sql.CHUNK).isEqualTo(500);
    }
}
