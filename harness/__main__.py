"""``python -m harness``: the same CLI as ``bhxh-harness``, for a machine without the script."""

from harness.cli import main

main(prog_name="bhxh-harness")
