"""The openinfp Gradio demo as a script: ``python demos/app.py [--port 7860] ...``.

Same options and behaviour as ``openinfp demo`` (bound to 127.0.0.1, analytics off,
queued, upload limits); the app itself lives in :mod:`openinfp.pipeline.demo` so the
installed package can serve it too.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    from openinfp.core.errors import OpenInfpError
    from openinfp.core.registry import Registry
    from openinfp.pipeline.cli import add_demo_arguments, run_demo
    from openinfp.pipeline.progress import plain_progress_on_non_tty
    from openinfp.quiet import quiet_third_party

    quiet_third_party()  # before gradio, torch and mediapipe load

    parser = argparse.ArgumentParser(prog="demos/app.py", description="Serve the openinfp Gradio demo.")
    add_demo_arguments(parser)
    args = parser.parse_args(argv)
    args._registry = Registry.create()
    try:
        with plain_progress_on_non_tty():
            return run_demo(args)
    except OpenInfpError as exc:
        print(f"demos/app.py: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
