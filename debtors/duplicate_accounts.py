"""Which rows of a list repeat an account seen earlier in the same file (pure).

The first row of an account is imported; a later row with the same account is rejected, naming the first.
A million accounts held in a Python dict cost ~130 MB of the import's 500 MB budget; held as one polars
string column they cost ~25 MB, and each chunk is checked with one join.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


class FirstRows:
    """The first row number of every account seen so far in one file."""

    def __init__(self) -> None:
        self._seen = pl.DataFrame(schema={"account": pl.String, "first": pl.Int64})

    def __len__(self) -> int:
        return self._seen.height

    def repeats(self, accounts: Sequence[str], rows: Sequence[int]) -> dict[int, int]:
        """Register a chunk's ``accounts`` (at ``rows``, in file order; empty accounts are ignored).

        Returns ``{position in the chunk: first row of that account}`` for each row that repeats an account
        seen earlier, in this chunk or a previous one.
        """
        chunk = pl.DataFrame(
            {
                "account": pl.Series(accounts, dtype=pl.String),
                "row": pl.Series(rows, dtype=pl.Int64),
                "position": pl.int_range(len(accounts), dtype=pl.Int64, eager=True),
            }
        ).filter(pl.col("account") != "")
        firsts = chunk.group_by("account", maintain_order=True).agg(pl.col("row").first().alias("here"))
        # Look the chunk's accounts up in the seen ones (a hash set of the chunk, a scan of the seen column):
        # a join would build a hash table of every account seen so far, ~130 MB at a million.
        seen_here = self._seen.filter(pl.col("account").is_in(firsts.get_column("account").implode()))
        known = firsts.join(seen_here, on="account", how="left", maintain_order="left")
        self._seen = pl.concat(
            [
                self._seen,
                known.filter(pl.col("first").is_null()).select("account", pl.col("here").alias("first")),
            ],
            rechunk=False,
        )
        first = known.select("account", pl.coalesce("first", "here").alias("first"))
        repeated = chunk.join(first, on="account", how="inner").filter(pl.col("row") != pl.col("first"))
        return dict(zip(repeated["position"].to_list(), repeated["first"].to_list(), strict=True))
