"""SQL text, built in one place: quoting, query values that carry their parameters, and the
dialect that holds everything that differs from one engine to another."""

from .dialect import DUCKDB, Dialect
from .query import Query
from .quoting import identifier, literal, literal_list

__all__ = ["DUCKDB", "Dialect", "Query", "identifier", "literal", "literal_list"]
