"""SEQ, CHAIN, DLG and LIST: rules that need several records or the conflist.

They are declared planned here until cross-record checking lands; the
reason names what each needs beyond one record.
"""

from __future__ import annotations

from cnilint.catalogue import catalogue
from cnilint.rules import PLANNED, planned

_NEEDS = {
    "time_order": "the records of several invocations in time order",
    "start_and_return_times": "the start and return times of several records",
    "chain_logs": "the logs of every plugin of the chain",
    "delegate_log": "the log of the delegated plugin",
    "version_record": "a VERSION record of the same plugin",
    "conflist": "the network configuration list (--conflist)",
}

_MULTI_RECORD_FAMILIES = ("SEQ", "CHAIN", "DLG", "LIST")

for _info in catalogue().values():
    if _info.family in _MULTI_RECORD_FAMILIES and _info.id not in PLANNED:
        _needs = "; ".join(_NEEDS.get(need, need) for need in _info.needs) or "the previous result of the chain"
        planned(_info.id, f"cross-record rule, not checked yet: it needs {_needs}")
