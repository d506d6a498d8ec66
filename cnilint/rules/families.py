"""Every rule family module; importing one registers its rules."""

from cnilint.rules import (  # noqa: F401 - imported for their registrations
    chk_output,
    conf,
    del_output,
    env,
    err,
    gc,
    ipam,
    multi_record,
    res,
    status,
    ver,
)
