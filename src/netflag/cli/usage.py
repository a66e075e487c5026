"""netflag's command group: usage errors in netflag's voice, in one line, and whole short helps.

The CLI framework (typer, over click) prints a usage error as four lines
(usage, hint, blank, ``Error: ...``) and cuts each command's summary in
``netflag --help`` at a width with "...". :class:`NetflagGroup` keeps its
parsing and turns both into what every other netflag error looks like:
``error: no such option: --foo (see netflag replay --help)``, exit code 2.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

try:  # typer 0.26 and later vendor click; earlier ones use click itself
    from typer._click import core as click_core
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import core as click_core  # type: ignore[no-redef]
    from click import exceptions as click_errors  # type: ignore[no-redef]

# click's words for a value's type or range, as netflag says them.
_REWORDED = [
    (re.compile(r"is not a valid (?:int|integer)(?: range)?$"), "is not a valid integer"),
    (re.compile(r"is not a valid float(?: range)?$"), "is not a valid number"),
    (
        re.compile(r"^(?P<value>.+) is not in the range x>=(?P<low>\S+)$"),
        r"must be at least \g<low>, got \g<value>",
    ),
]


def first_paragraph(text: str) -> str:
    """A help text's first paragraph on one line: what ``netflag --help`` lists, whole."""
    return " ".join(text.strip().split("\n\n", 1)[0].split())


def _hint(param: click_core.Parameter | None, given: str | Sequence[str] | None) -> str | None:
    """How a parameter is named in a message: its first long option, or its metavar."""
    if given is not None:
        return given if isinstance(given, str) else next(iter(given), None)
    if param is None:
        return None
    if param.param_type_name == "option":
        longs = [flag for flag in param.opts if flag.startswith("--")]
        return (longs or param.opts)[0]
    return str(param.human_readable_name)


def _reworded(message: str) -> str:
    message = " ".join(message.split()).rstrip(".")
    for pattern, replacement in _REWORDED:
        message = pattern.sub(replacement, message)
    return message


def usage_line(error: click_errors.UsageError) -> str:
    """The one line for a usage error (without ``error: ``)."""
    see = True  # point at --help when the user must look up what is valid
    if isinstance(error, click_errors.MissingParameter) and error.param is not None:
        hint = _hint(error.param, error.param_hint)
        text = f"missing {error.param.param_type_name} {hint}"
    elif isinstance(error, click_errors.BadParameter):
        hint = _hint(error.param, error.param_hint)
        message = _reworded(error.message)
        text = f"invalid value for {hint}: {message}" if hint else message
        see = False
    elif isinstance(error, click_errors.NoSuchOption) and error.possibilities:
        text = f"{_reworded(error.message)}; did you mean {' or '.join(error.possibilities)}?"
    else:
        text = _reworded(error.format_message()).replace(". Did you mean", "; did you mean")
    text = text[:1].lower() + text[1:]
    if see and error.ctx is not None:
        text += f" (see {error.ctx.command_path} --help)"
    return text


class NetflagGroup(TyperGroup):
    """The ``netflag`` group: one-line usage errors, and whole first lines in its help."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for command in self.commands.values():
            if command.short_help is None and command.help:
                command.short_help = first_paragraph(command.help)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run as click does, but print errors as netflag does (standalone: then exit)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except click_errors.NoArgsIsHelpError as shown:  # bare `netflag`: the help, no error
            sys.stdout.write(shown.ctx.get_help() + "\n")
            _exit(0)
        except click_errors.UsageError as error:
            _fail(usage_line(error), error.exit_code)
        except click_errors.ClickException as error:
            _fail(_reworded(error.format_message()), error.exit_code)
        except typer.Abort:  # typer's answer to end of input at a prompt
            _fail("aborted", 1)
        _exit(code if isinstance(code, int) else 0)


def _fail(line: str, code: int) -> NoReturn:
    sys.stderr.write(f"error: {line}\n")
    _exit(code)


def _exit(code: int) -> NoReturn:
    sys.exit(code)
