"""The command line every benchmark script builds (they import it as a sibling module)."""

from __future__ import annotations

import argparse


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The docstring's lines as written, and every option's default after its help. An
    option whose default is None, or a flag, says in its own help what leaving it out does."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.nargs == 0:
            return action.help
        return super()._get_help_string(action)


def benchmark_parser(description: str | None) -> argparse.ArgumentParser:
    """An argument parser whose ``--help`` shows the defaults."""
    return argparse.ArgumentParser(description=description, formatter_class=_Formatter)
