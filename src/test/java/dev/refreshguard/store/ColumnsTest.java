package dev.refreshguard.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Rows are read by column name (or an expression's alias), whatever the database hands back for a type. */
class ColumnsTest {

    private static final Columns COLUMNS = new Columns("ID", "OFFLINE", "GENERATION", "CASE WHEN SUCCESSOR <> '' THEN 1 ELSE 0 END AS SEALED",
            "PARENT_ID");

    @Test
    void aRowIsReadByNameAndAlias() {
        Columns.Row row = COLUMNS.row(new Object[] {"f1", Boolean.TRUE, 7L, 1, ""});
        assertThat(COLUMNS.list()).isEqualTo("ID, OFFLINE, GENERATION, CASE WHEN SUCCESSOR <> '' THEN 1 ELSE 0 END AS SEALED, PARENT_ID");
        assertThat(row.text("ID")).isEqualTo("f1");
        assertThat(row.bool("OFFLINE")).isTrue();
        assertThat(row.integer("GENERATION")).isEqualTo(7);
        assertThat(row.number("SEALED")).isEqualTo(1);
        assertThat(row.optionalText("PARENT_ID")).as("'' is how the store writes absent").isNull();
    }

    @Test
    void databaseShapesOfBooleansAndNumbersAreNormalised() {
        // MariaDB hands back TINYINT(1) as a number; PostgreSQL a Boolean; a NULL number reads as 0.
        assertThat(COLUMNS.row(new Object[] {"f", 1, null, 0, null}).bool("OFFLINE")).isTrue();
        assertThat(COLUMNS.row(new Object[] {"f", 0, null, 0, null}).bool("OFFLINE")).isFalse();
        assertThat(COLUMNS.row(new Object[] {"f", 0, null, 0, null}).number("GENERATION")).isZero();
        assertThat(new Columns("ID").row("only").text("ID")).as("one selected column comes back bare").isEqualTo("only");
    }

    @Test
    void aColumnNotSelectedIsAnErrorNotAWrongValue() {
        assertThatThrownBy(() -> COLUMNS.row(new Object[] {"f", 0, 0, 0, null}).text("STATE"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("STATE is not selected");
    }

    @Test
    void plusKeepsTheColumnsAndAddsMore() {
        Columns judged = Family.COLUMNS.plus("SUCCESSOR", "SUCCESSOR_EXP");
        assertThat(judged.list()).startsWith(Family.COLUMNS.list()).endsWith(", SUCCESSOR, SUCCESSOR_EXP");
    }
}
