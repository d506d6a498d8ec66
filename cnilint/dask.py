"""Check a fleet's logs on a Dask cluster: one partition per node.

A node's logs relate to each other (a `bridge` call and the `host-local` call
it delegated to, the ADD, CHECK and DEL of one attachment) and never to another
node's, so each node is checked alone, by the same `check_paths` as
`cnilint check NODE_DIR`, on whichever Dask worker gets its partition:

    from dask.distributed import Client
    from cnilint.dask import check_nodes

    client = Client("tcp://scheduler:8786")
    frames = check_nodes(["/logs/node-a", "/logs/node-b"])  # paths as the workers see them
    findings, records = dask.compute(frames.findings, frames.records)  # one check per node for both

Findings have the JSON report's fields (`cnilint check --format json`, with
`related` as JSON text, as in `--format csv`), records the columns and cells
of `--records-csv`, problems the JSON report's `problems` plus the error lines
the CLI prints (paths that could not be read, line 0); each with a `node`
column first. Text columns are pandas "string" (absent values are <NA>),
counts and line numbers int64, flags bool: Arrow and Parquet take them as
they are. `check_node` is the pandas function each partition runs, usable by
any other engine (Ray, Spark, a process pool).

Dask is imported only by `check_nodes`: without it, it raises an ImportError
saying `pip install 'cnilint[dask]'`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import pandas as pd

from cnilint.checker import check_paths
from cnilint.correlate.conflist import Conflist, load_conflists
from cnilint.findings import Finding
from cnilint.inputs import DEFAULT_MAX_RECORD_BYTES
from cnilint.options import Options
from cnilint.reports.csv_report import FINDING_COLUMNS, RECORD_COLUMNS, record_row

INSTALL_HINT = "cnilint.dask needs Dask: pip install 'cnilint[dask]'"

PathLike = str | os.PathLike[str]
Node = PathLike | Sequence[PathLike]  # a directory of one node's logs, or its log files and directories
Conflists = Mapping[str, Conflist] | Sequence[PathLike] | None  # as load_conflists gives them, or its paths

# Columns that always hold a number or a flag; every other one is text.
_INTEGERS = frozenset({"line", "end_line", "record", "errors", "warnings", "infos"})
_FLAGS = frozenset({"failed", "complete", "recovered"})
# The JSON report's problem objects (cnilint.reports.data.report_data).
PROBLEM_COLUMNS = ("file", "line", "end_line", "message")


class NodeFrames(NamedTuple):
    """One node's findings, records and problems, as pandas DataFrames."""

    findings: pd.DataFrame
    records: pd.DataFrame
    problems: pd.DataFrame


class FleetFrames(NamedTuple):
    """Every node's findings, records and problems, as Dask DataFrames (one
    partition per node, in the order the nodes were given)."""

    findings: Any  # dask.dataframe.DataFrame
    records: Any
    problems: Any


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    """The declared columns and dtypes (Dask's `meta`)."""
    return pd.DataFrame({column: pd.Series(dtype=_dtype(column)) for column in ("node", *columns)})


def _dtype(column: str) -> str:
    return "int64" if column in _INTEGERS else "bool" if column in _FLAGS else "string"


FINDINGS_META = _empty(FINDING_COLUMNS)
RECORDS_META = _empty(RECORD_COLUMNS)
PROBLEMS_META = _empty(PROBLEM_COLUMNS)


def _frame(rows: list[dict[str, Any]], meta: pd.DataFrame) -> pd.DataFrame:
    if not rows:
        return meta.copy()
    frame = pd.DataFrame(rows, columns=list(meta.columns), dtype=object)
    return frame.astype(meta.dtypes.to_dict())


def node_name(node: Node) -> str:
    """A node's name: its path, or its first path's for a list."""
    if isinstance(node, (str, os.PathLike)):
        return os.fspath(node)
    return os.fspath(node[0]) if node else ""


def _paths(node: Node) -> list[str]:
    return [os.fspath(node)] if isinstance(node, (str, os.PathLike)) else [os.fspath(path) for path in node]


def _loaded(conflists: Conflists) -> dict[str, Conflist]:
    if conflists is None:
        return {}
    if isinstance(conflists, Mapping):
        return dict(conflists)
    return load_conflists([os.fspath(path) for path in conflists])


def check_node(
    node: Node,
    options: Options | None = None,
    conflists: Conflists = None,
    *,
    name: str | None = None,
    keep_records: bool = True,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> NodeFrames:
    """Check one node's logs together, as `cnilint check PATH...` does (default
    Options() when none: pass `cnilint.options.load_options()` for a project's
    configuration); secrets are redacted as in every report."""
    label = name if name is not None else node_name(node)
    checked = check_paths(
        _paths(node),
        options or Options(),
        _loaded(conflists),
        keep_records=keep_records,
        record_bodies=False,  # the records frame has the --records-csv columns
        max_record_bytes=max_record_bytes,
    )
    data = checked.data
    findings = [{"node": label, **finding.to_dict(), "related": _related(finding)} for finding in data.findings]
    records = [{"node": label, **record_row(row)} for row in data.rows()] if keep_records else []
    problems = [{"node": label, **problem} for problem in data.problems]
    # What the CLI prints as error lines: paths not read, and cnilint bugs met.
    for message in [*checked.io_errors, *checked.errors]:
        problems.append({"node": label, "file": None, "line": 0, "end_line": 0, "message": message})
    return NodeFrames(_frame(findings, FINDINGS_META), _frame(records, RECORDS_META), _frame(problems, PROBLEMS_META))


def check_nodes(
    nodes: Sequence[Node] | Mapping[str, Node],
    options: Options | None = None,
    conflists: Conflists = None,
    *,
    workers: Mapping[str, str | Sequence[str]] | None = None,
    keep_records: bool = True,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> FleetFrames:
    """Dask DataFrames of the findings, records and problems of every node (a
    list of nodes, or names mapped to nodes), one partition per node.

    The Dask workers open the paths: give paths they can read (shared storage),
    or, with each node's logs on its own machine, run a Dask worker there and
    map each node's name to it in `workers` (worker names or addresses): its
    partition then runs only there. With `workers` the checks start at once on
    the current `distributed` client; without, the frames are lazy: compute them
    together (`dask.compute(frames.findings, frames.records)`) to check each node
    once. Conflists (paths) are read here and sent with the tasks.
    """
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:
        raise ImportError(INSTALL_HINT) from None

    named = list(nodes.items()) if isinstance(nodes, Mapping) else [(node_name(node), node) for node in nodes]
    loaded = _loaded(conflists)
    settings = {"keep_records": keep_records, "max_record_bytes": max_record_bytes}
    if workers is None:
        parts = [dask.delayed(check_node)(node, options, loaded, name=name, **settings) for name, node in named]
        pieces = [[dask.delayed(_field, pure=True)(part, index) for part in parts] for index in range(3)]
    else:
        # Annotations do not survive DataFrame graph optimisation: pin real tasks instead.
        from distributed import get_client

        client = get_client()
        parts = [
            client.submit(
                check_node, node, options, loaded, name=name, workers=_where(workers, name), pure=False, **settings
            )
            for name, node in named
        ]
        pieces = [
            [
                client.submit(_field, part, index, workers=_where(workers, name))
                for part, (name, _) in zip(parts, named, strict=True)
            ]
            for index in range(3)
        ]

    def frame(index: int, meta: pd.DataFrame) -> Any:
        if not parts:
            return dd.from_pandas(meta, npartitions=1)
        return dd.from_delayed(pieces[index], meta=meta, verify_meta=False)

    return FleetFrames(frame(0, FINDINGS_META), frame(1, RECORDS_META), frame(2, PROBLEMS_META))


def _where(workers: Mapping[str, str | Sequence[str]], name: str) -> list[str] | None:
    """The workers a node's partition may run on (None: any)."""
    chosen = workers.get(name)
    if chosen is None:
        return None
    return [chosen] if isinstance(chosen, str) else list(chosen)


def _related(finding: Finding) -> str:
    """`related` as JSON text, as `--format csv` writes it."""
    return json.dumps([item.to_dict() for item in finding.related], ensure_ascii=False)


def _field(frames: NodeFrames, index: int) -> pd.DataFrame:
    return frames[index]
