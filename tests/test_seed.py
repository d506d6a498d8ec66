"""The article's own capture, rebuilt in fixtures/seed, parses to the values it prints."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from conftest import FIXTURES

from cnilint import parse

CONTAINER = "9b6e84650c3ed8407953c396efa391d2c2173388d8a8b3615c937a5779d526e8"
CONFIG = (
    '{"bridge":"cni0","cniVersion":"0.3.1","hairpinMode":true,"ipMasq":true,"ipam":{"ranges":'
    '[[{"subnet":"10.85.0.0/16"}],[{"subnet":"1100:200::/24"}]],"routes":[{"dst":"0.0.0.0/0"},'
    '{"dst":"1100:200::1/24"}],"type":"host-local"},"isGateway":true,"name":"crio","type":"bridge"}'
)
EDT = timezone(timedelta(hours=-4))


def test_seed_bridge_record() -> None:
    (record,) = list(parse(FIXTURES / "seed" / "bridge"))
    assert record.plugin == "bridge"
    assert (record.line, record.end_line) == (1, 70)  # 68 printed lines, Returned at, separator
    assert record.started == "Fri Aug 27 07:55:52 EDT 2021"
    assert record.started_at == datetime(2021, 8, 27, 7, 55, 52, tzinfo=EDT)
    assert list(record.params) == [
        "CNI_PATH", "CNI_ARGS", "CNI_CONTAINERID", "CNI_IFNAME", "CNI_COMMAND", "CNI_NETNS",
    ]  # fmt: skip
    assert record.command == "ADD"
    assert record.container_id == CONTAINER
    assert record.ifname == "eth0"
    assert record.netns == "/var/run/netns/3526ea0f-6dd9-4985-8f98-0db6d817abd4"
    assert record.cni_path == "/opt/cni/bin:/usr/libexec/cni"
    assert dict(record.cni_args_pairs) == {
        "IgnoreUnknown": "1",
        "K8S_POD_NAMESPACE": "kube-system",
        "K8S_POD_NAME": "coredns-78fcd69978-n5khq",
        "K8S_POD_INFRA_CONTAINER_ID": CONTAINER,
        "K8S_POD_UID": "94f2364f-4fd6-4b74-9f5a-c68e2c6f97dd",
    }
    assert record.env["SHLVL"] == "1"
    assert record.env["INVOCATION_ID"] == "77a9194a9cd04940a5fe1bdbca0e218b"
    assert list(record.env)[-1] == "_"
    assert record.input.raw == CONFIG
    assert record.input.value["ipam"]["type"] == "host-local"
    output = record.output.value
    assert [i["name"] for i in output["interfaces"]] == ["cni0", "vethc4b25c20", "eth0"]
    assert output["ips"][0] == {"version": "4", "interface": 2, "address": "10.85.0.17/16", "gateway": "10.85.0.1"}
    assert output["ips"][1]["address"] == "1100:200::f/24"
    assert output["routes"] == [{"dst": "0.0.0.0/0"}, {"dst": "1100:200::1/24"}]
    assert output["dns"] == {}
    assert record.complete and not record.tty and not record.problems


def test_seed_host_local_record_is_the_delegated_call() -> None:
    (record,) = list(parse(FIXTURES / "seed" / "host-local"))
    assert record.plugin == "host-local"
    assert record.env["SHLVL"] == "2"
    assert record.input.raw == CONFIG
    assert record.output.value["ips"] == [
        {"version": "4", "address": "10.85.0.17/16", "gateway": "10.85.0.1"},
        {"version": "6", "address": "1100:200::f/24", "gateway": "1100:200::1"},
    ]
    assert "interfaces" not in record.output.value


def test_json_values_point_back_to_their_log_line() -> None:
    (record,) = list(parse(FIXTURES / "seed" / "bridge"))
    lines = (FIXTURES / "seed" / "bridge").read_text().split("\n")
    line = record.output.line_of(("ips", 0, "interface"))
    assert lines[line - 1] == '"interface": 2,'
    assert lines[record.output.line_of(("ips", 1, "address")) - 1] == '"address": "1100:200::f/24",'
    assert record.input.line_of(("ipam", "type")) == record.input.line  # compact JSON: one line
    assert lines[record.output.line_of(("interfaces", 2, "sandbox")) - 1].startswith('"sandbox"')
    # A path that does not exist points at its nearest ancestor.
    assert record.output.line_of(("ips", 0, "nope")) == record.output.line_of(("ips", 0))
