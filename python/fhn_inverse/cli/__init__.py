"""The ``fhn-inverse`` command line: demo, simulate, train, predict, reproduce.

Options may also come from a TOML file (``--config run.toml``); keys are the long option names
with underscores (``train_size = 1000``). Each value is checked like the same value on the command
line (type, choices; booleans only for flags) and becomes the option's default, so options given
on the command line, in long or short form, win.

User errors (bad values, unreadable or invalid files, I/O failures such as a full disk, too little
memory) end with one line on stderr, ``fhn-inverse <command>: error: ...``, and exit status 2;
Ctrl-C ends with exit status 130. Every file is written atomically (``fhn_inverse._util.io``).

The modules: ``parser`` (``build_parser``, the ``--config`` file, one-line errors), ``common``
(helpers the commands share), ``data_commands`` (demo, simulate), ``model_commands`` (train,
info, predict, calibrate, diagnose) and ``study_commands`` (reproduce, report); ``main`` here.
"""

from __future__ import annotations

import os
import sys
import warnings

from .common import _check_threads
from .parser import _config_defaults, _fail, _subparser, _UserError, build_parser

__all__ = ["main", "build_parser"]


def main(argv=None) -> int:
    import fhn_inverse as fi

    parser = build_parser()
    args = parser.parse_args(argv)
    sub = _subparser(parser, args.command)
    if getattr(args, "config", None) is not None:
        # The config's values become the command's defaults; parsing again lets every option
        # given on the command line win, whatever its spelling.
        try:
            sub.set_defaults(**_config_defaults(sub, args.config))
        except _UserError as err:
            _fail(sub.prog, str(err))
        args = parser.parse_args(argv)
    try:
        _check_threads(args)
        with warnings.catch_warnings():  # a warning is one line, as the errors are
            warnings.showwarning = lambda message, category, *_, **__: print(
                f"{sub.prog}: warning: {message}", file=sys.stderr)
            return args.func(args)
    except KeyboardInterrupt:
        print(f"{sub.prog}: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except BrokenPipeError:  # `predict ... | head`: the reader has gone; end quietly, as SIGPIPE would
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        raise SystemExit(141) from None
    except MemoryError as err:
        _fail(sub.prog, f"out of memory{': ' + str(err) if str(err) else ''}")
    except (ValueError, TypeError, OSError, fi.SimulationError) as err:
        _fail(sub.prog, str(err) or type(err).__name__)

