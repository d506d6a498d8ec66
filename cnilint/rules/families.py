"""Every rule family module; importing one registers its rules."""

from cnilint.rules import (  # noqa: F401 - imported for their registrations
    chain,
    chk_output,
    conf,
    del_output,
    dlg,
    env,
    err,
    gc,
    ipam,
    listconf,
    res,
    seq,
    status,
    ver,
)
