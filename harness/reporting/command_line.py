"""The command a report says to run again, rebuilt from what the user typed.

Rebuilding from the click context, not by hand per command, keeps every option in the line
as options are added: a reproduce line that drops one (``--serve-catalog``, say) reruns a
different setup and is worse than none.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection

import click
from click.core import ParameterSource


def command_line(
    ctx: click.Context, *, secrets: Collection[str] = (), leave_out: Collection[str] = ()
) -> str:
    """``bhxh-harness <command> …`` with every parameter given on the command line, but
    those named in ``leave_out`` (a caller that gives them values of its own).

    Defaults and values read from the environment stay out (the environment is still
    there to rerun it); a parameter named in ``secrets`` shows as ``<name>``, because a
    report is shared and a credential is not.
    """
    chain = [ctx]
    while (parent := chain[-1].parent) is not None:
        chain.append(parent)
    words = ["bhxh-harness"]  # however it was started: python -m, a test's runner, a script
    words += [c.command.name or "" for c in reversed(chain) if c.parent is not None or c is ctx]
    for param in ctx.command.params:
        name = param.name
        if name is None or name in leave_out:
            continue
        if ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
            continue
        value = ctx.params[name]
        if isinstance(param, click.Option) and param.is_flag:
            if value:
                words.append(param.opts[-1])
            elif param.secondary_opts:
                words.append(param.secondary_opts[-1])
            continue
        values = value if param.multiple or param.nargs == -1 else (value,)
        option = [max(param.opts, key=len)] if isinstance(param, click.Option) else []
        for one in values:
            shown = f"<{name.replace('_', '-')}>" if name in secrets else str(one)
            words += [*option, shlex.quote(shown)]
    return " ".join(words)


__all__ = ["command_line"]
