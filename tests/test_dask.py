"""cnilint.dask on a local Dask cluster (worker processes): one partition per
node, the same findings as `cnilint check NODE --format json`, the records of
`--records-csv`; a clear ImportError without Dask."""

from __future__ import annotations

import builtins
import json
from collections import Counter

import pandas as pd
import pytest
from conftest import FIXTURES, REAL

from cnilint.cli import main
from cnilint.correlate.conflist import load_conflists
from cnilint.dask import INSTALL_HINT, check_node, check_nodes

# Each real scenario was captured on its own: one node each.
NODES = [str(REAL / name) for name in ("01-classic-0.3.1", "03a-chain-1.0.0", "07-errors", "08-concurrency")]
CONFLISTS = str(FIXTURES / "conflists")


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def frames(client):
    import dask

    fleet = check_nodes(NODES, conflists=[CONFLISTS])
    assert [fleet.findings.npartitions, fleet.records.npartitions] == [len(NODES), len(NODES)]
    return dask.compute(*fleet)  # findings, records, problems: each node checked once


def _cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def _as_json(findings: pd.DataFrame) -> list[dict]:
    """Rows as the JSON report's findings: <NA> is null, `related` is JSON."""
    rows = findings.drop(columns="node").astype(object).where(findings.drop(columns="node").notna(), None)
    return [{**row, "related": json.loads(row["related"])} for row in rows.to_dict("records")]


def test_findings_are_the_clis_node_by_node(frames, capsys) -> None:
    findings, _, _ = frames
    expected, nodes = [], []
    for node in NODES:
        _, out = _cli(capsys, "check", node, "--conflist", CONFLISTS, "--format", "json")
        found = json.loads(out)["findings"]
        expected += found
        nodes += [node] * len(found)
    assert len(expected) > 100
    assert _as_json(findings) == expected  # same rows, in the CLI's order
    assert findings["node"].tolist() == nodes


def test_records_are_the_records_csv(frames, capsys, tmp_path) -> None:
    _, records, _ = frames
    for node in NODES:
        target = tmp_path / "records.csv"
        _cli(capsys, "check", node, "--conflist", CONFLISTS, "--format", "json", "--records-csv", str(target))
        written = pd.read_csv(target, dtype=str, keep_default_na=False)
        mine = records[records["node"] == node].drop(columns="node").astype(object)
        mine = mine.where(mine.notna(), "").map(str)  # as CSV cells: absent is empty
        assert len(mine) > 10
        assert mine.to_dict("records") == written.to_dict("records")


def test_problems_carry_parse_problems_and_unreadable_paths(client, tmp_path) -> None:
    import dask

    fleet = check_nodes({"broken": [str(REAL / "07-errors" / "truth.json"), str(tmp_path / "missing")]})
    (problems,) = dask.compute(fleet.problems)
    assert problems["node"].tolist() == ["broken", "broken"]
    assert "no wrapper records found" in problems["message"].iloc[0]
    assert problems["message"].iloc[1] == f"{tmp_path / 'missing'}: no such file or directory"


def test_each_node_runs_on_the_worker_it_is_pinned_to(client, frames) -> None:
    """Logs kept on each node: its partition runs on the Dask worker there."""
    import dask
    from distributed import get_task_stream

    addresses = sorted(client.scheduler_info()["workers"])
    pinned = {node: addresses[0] if node == NODES[-1] else addresses[1] for node in NODES}  # 3 there, 1 here
    with get_task_stream() as stream:
        fleet = check_nodes(NODES, conflists=[CONFLISTS], workers=pinned)
        findings, records, _ = dask.compute(fleet.findings, fleet.records, fleet.problems)
    ran = {task["key"]: task["worker"] for task in stream.data if str(task["key"]).startswith("check_node")}
    assert Counter(ran.values()) == Counter(pinned.values())  # one check per node, each where it was pinned
    assert findings.equals(frames[0]) and records.equals(frames[1])


def test_a_partition_is_plain_pandas_for_any_engine() -> None:
    node = check_node(NODES[2], conflists=load_conflists([CONFLISTS]))
    assert len(node.findings) == 71  # 07-errors, as the baseline has them
    assert len(node.records) == 73
    assert str(node.findings["line"].dtype) == "int64" and str(node.records["failed"].dtype) == "bool"


def test_without_dask_the_error_says_what_to_install(monkeypatch) -> None:
    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "dask" or name.startswith("dask."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(ImportError) as raised:
        check_nodes(NODES)
    assert str(raised.value) == INSTALL_HINT == "cnilint.dask needs Dask: pip install 'cnilint[dask]'"
