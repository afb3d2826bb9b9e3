"""Placeholder: replaced by the command's implementation."""

from __future__ import annotations

import argparse
from typing import TextIO


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("rest", nargs="*")


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    stderr.write("not implemented yet\n")
    return 2
