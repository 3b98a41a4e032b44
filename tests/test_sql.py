"""The one quoting room and the query value: what they write, and what they refuse."""

import math

import duckdb
import pytest

from scorecard.sql import DUCKDB, Query, identifier, literal, literal_list


@pytest.mark.parametrize("value", ["plain", "it's", "a\"b", "'; DROP TABLE x; --", "é ü 名",
                                   "", "back\\slash", "two\nlines"])
def test_a_string_literal_reads_back_as_itself(value):
    assert duckdb.execute(f"SELECT {literal(value)}").fetchone()[0] == value


@pytest.mark.parametrize("name", ["system", "metric:value", 'say "hi"', "select", "a b"])
def test_an_identifier_names_a_column_whatever_its_name(name):
    assert [d[0] for d in duckdb.execute(f"SELECT 1 AS {identifier(name)}").description] == [name]


@pytest.mark.parametrize("value, text", [(None, "NULL"), (True, "TRUE"), (False, "FALSE"),
                                         (7, "7"), (0.1, "0.1"), (-2.5e-9, "-2.5e-09")])
def test_numbers_and_nothing_are_written_as_sql_reads_them(value, text):
    assert literal(value) == text


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_a_number_that_is_not_finite_has_no_literal(value):
    with pytest.raises(ValueError, match="finite"):
        literal(value)


def test_a_list_of_one_is_a_list_and_an_empty_list_is_refused():
    assert literal_list(["ok"]) == "('ok')"
    assert duckdb.execute(f"SELECT 'ok' IN {literal_list(['ok'])}").fetchone()[0] is True
    with pytest.raises(ValueError):
        literal_list([])
    with pytest.raises(TypeError):
        literal(object())


def test_a_query_carries_exactly_the_parameters_its_text_uses():
    q = Query("SELECT $a + $b", {"a": 1, "b": 2})
    assert duckdb.execute(q.text, dict(q.params)).fetchone()[0] == 3
    with pytest.raises(ValueError, match="missing \\['b'\\]"):
        Query("SELECT $a + $b", {"a": 1})
    with pytest.raises(ValueError, match="unused \\['c'\\]"):
        Query("SELECT $a", {"a": 1, "c": 3})
    assert Query.using("SELECT $a", {"a": 1, "c": 3}).params == {"a": 1}


def test_the_dialect_checks_the_period_before_it_reaches_sql():
    assert DUCKDB.trunc("week", "t") == "date_trunc('week', t)"
    with pytest.raises(ValueError, match="Period"):
        DUCKDB.trunc("week'); DROP TABLE x; --", "t")
