"""Write records exactly as the seed's bash wrapper appends them (for tests)."""

from __future__ import annotations

SEPARATOR = "=" * 65


def env_output(variables: list[tuple[str, str]]) -> str:
    return "".join(f"{name}={value}\n" for name, value in variables)


def wrapper_record(
    *,
    started: str,
    returned: str,
    env: list[tuple[str, str]],
    stdin: str | None,
    stdout: str,
) -> str:
    """One record; `stdin=None` is the `[ -t 0 ]` branch (stdin a terminal)."""
    env_text = env_output(env)
    params = "".join(line + "\n" for line in env_text.split("\n") if "CNI" in line)
    head = f"{started}\n{SEPARATOR}\nCNI params:\n{params}env:\n{env_text}"
    # Terminal branch: tee -a copies stdout verbatim. Pipe branch: tee copies
    # stdin verbatim, then `echo ""`; $(...) strips stdout's trailing newlines
    # and `echo "$output"` adds one back.
    piped = f"INPUT:\n{stdin}\nOUTPUT:\n{stdout.rstrip(chr(10))}\n"
    body = f"OUTPUT:\n{stdout}" if stdin is None else piped
    return f"{head}{body}Returned at: {returned}\n{SEPARATOR}\n\n\n"
