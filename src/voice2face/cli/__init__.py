"""The `voice2face` console script: parse and validate, then call a library function.

Errors raised on purpose (:class:`~voice2face.errors.Voice2FaceError`) are printed as one
line without a traceback. Exit codes mean the same in every command:

- 0: done;
- 1: a file problem: an input that is missing, unreadable or unusable (a recording, dataset,
  model or run folder), or an output that cannot be created or written or would replace
  something (see ``--overwrite``); ``portrait`` also when any one recording failed;
- 2: a usage problem: an option that is missing, out of range or inconsistent (argparse's
  usage errors too), or a ``--device`` this machine does not have;
- 130: interrupted (Ctrl-C); 141: the reader of the output went away.

Output locations are created and tried before any slow work, so a bad ``-o`` fails at once; a
folder made for a command that then wrote nothing is removed again. Log lines read as
sentences: ``voice2face: warning: ...``.

One module per command (:mod:`.features`, :mod:`.train` …) registers its sub-parser with a
``run(args)`` handler; the imports that cost (torch models, training, evaluation, the synthetic
corpus) happen inside ``run``, so ``voice2face --help`` builds every parser without them. Shared
argument helpers and the config defaults they show are in :mod:`.options`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from voice2face import __version__
from voice2face.cli import (
    demo,
    evaluate,
    features,
    import_stylegan2,
    portrait,
    prepare,
    report,
    serve,
    synth_corpus,
    synth_faces,
    train,
    train_encoder,
)
from voice2face.errors import Voice2FaceError

log = logging.getLogger("voice2face")

#: The commands, in the order ``voice2face --help`` lists them.
COMMANDS = (
    features, synth_corpus, synth_faces, prepare, import_stylegan2, train_encoder, train, portrait, evaluate, report,
    demo, serve,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="voice2face",
        description="Generate a face portrait from a voice recording (synthetic images, not photographs).",
    )
    parser.add_argument("--version", action="version", version=f"voice2face {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)

    for command in sub.choices.values():  # -v after the command too: `voice2face portrait -v ...`
        command.add_argument(
            "-v", "--verbose", action="count", default=0, dest="command_verbose",
            help="more log output (-vv for debug)",
        )  # fmt: skip
    return parser


class SentenceFormatter(logging.Formatter):
    """Log lines as the CLI's errors read: ``voice2face: warning: A sentence.``

    The level is in lower case; a message starting with a lower-case word gets a capital and
    one without closing punctuation a full stop, whoever wrote it.
    """

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().strip()
        first = message.split(maxsplit=1)[0].rstrip(".,;:!?") if message else ""
        if first.isalpha() and first.islower():
            message = message[0].upper() + message[1:]
        if message and message[-1] not in ".!?":
            message += "."
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return f"voice2face: {record.levelname.lower()}: {message}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(SentenceFormatter())
    verbose = args.verbose + getattr(args, "command_verbose", 0)
    logging.basicConfig(level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)], handlers=[handler])
    if not getattr(args, "handler", None):
        parser.print_help()  # asked for nothing: the help is the answer
        return 0
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
    except Voice2FaceError as exc:
        print(f"voice2face: error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt as exc:
        print(f"voice2face: {str(exc) or 'interrupted'}", file=sys.stderr)  # a bare Ctrl-C carries no message
        code = 130
    except BrokenPipeError:
        # The reader went away (`voice2face ... | head`): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141
    if "torch.distributed" in sys.modules and args.command in ("train", "train-encoder"):
        from voice2face.training.distributed import exit_process

        return exit_process(code)
    return code
