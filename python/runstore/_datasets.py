"""Describing a DataFrame for ``Run.log_dataset``: shape, schema and a content hash."""

from __future__ import annotations

import hashlib
from typing import Any


def describe(data: Any) -> dict[str, Any]:
    """Rows, columns, ``{column: dtype}``, the SHA-256 of the content and the size in memory of
    a pandas or polars DataFrame (or anything with ``shape`` and ``dtypes``)."""
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        return _polars(data)
    if module == "pandas":
        return _pandas(data)
    raise TypeError(
        f"log_dataset: data must be a pandas or polars DataFrame, not {type(data).__name__} "
        "(pass path= for a file)"
    )


def _polars(df: Any) -> dict[str, Any]:
    digest = hashlib.sha256()
    digest.update(repr(list(zip(df.columns, map(str, df.dtypes)))).encode())
    if df.height:
        digest.update(df.hash_rows(seed=0).to_numpy().tobytes())
    return {
        "rows": df.height,
        "columns": df.width,
        "schema": {name: str(dtype) for name, dtype in zip(df.columns, df.dtypes)},
        "sha256": digest.hexdigest(),
        "size_bytes": int(df.estimated_size()),
    }


def _pandas(df: Any) -> dict[str, Any]:
    import pandas as pd

    digest = hashlib.sha256()
    digest.update(repr([(str(c), str(t)) for c, t in df.dtypes.items()]).encode())
    if len(df):
        digest.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    rows, columns = df.shape
    return {
        "rows": int(rows),
        "columns": int(columns),
        "schema": {str(c): str(t) for c, t in df.dtypes.items()},
        "sha256": digest.hexdigest(),
        "size_bytes": int(df.memory_usage(deep=True).sum()),
    }
