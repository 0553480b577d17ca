"""``python -m dashboard [--classroom] [--folder-root DIR ...] [--port N]``: serve the dashboard.

``python -m dashboard lesson --dataset digits --out DIR``: write the lesson as a folder that any static
file server runs, with no Latent Lab process (see ``python -m dashboard lesson --help``).

Without ``--classroom`` it listens on this machine only (127.0.0.1). With it, it listens on every
interface of the machine so a room can open it, and every browser is read-only (see
dashboard/policy.py): no training, no deleting, no typed server paths, small uploads.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dashboard.policy import CLASSROOM_ENV, CLASSROOM_UPLOAD_MB, FOLDER_ROOTS_ENV

# app.py behind the middleware that sends the files every browser fetches from memory (dashboard/serve.py)
APP = Path(__file__).resolve().parent / "serve.py"
# A room is served, not developed: no source watching. With a watcher Streamlit walks every loaded
# module (torch's thousands) after each script run to watch their files, and polls those files in the
# background: 40 % of the server's CPU per student visit in a py-spy profile (bench part "visits").
CLASSROOM_SERVER_OPTIONS = ("--server.fileWatcherType", "none")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["lesson"]:
        from dashboard.lesson.cli import main as lesson

        return lesson(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classroom", action="store_true",
                        help="serve to the network, read-only for every browser (no training, deleting or paths)")
    parser.add_argument("--folder-root", action="append", default=[], metavar="DIR",
                        help="classroom: a folder whose sub-folders students may open as datasets (repeatable)")
    parser.add_argument("--address", help="interface to listen on (default 127.0.0.1; classroom 0.0.0.0)")
    parser.add_argument("--port", type=int, default=8501)
    args = parser.parse_args(argv)
    missing = [root for root in args.folder_root if not Path(root).is_dir()]
    if missing:
        parser.exit(2, f"error: --folder-root {missing[0]} is not a folder\n")
    address = args.address or ("0.0.0.0" if args.classroom else "127.0.0.1")
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", address,
               "--server.port", str(args.port)]
    env = dict(os.environ)
    if args.classroom:
        command += ["--server.maxUploadSize", str(CLASSROOM_UPLOAD_MB), *CLASSROOM_SERVER_OPTIONS]
        env[CLASSROOM_ENV] = "1"
        env[FOLDER_ROOTS_ENV] = os.pathsep.join(str(Path(r).resolve()) for r in args.folder_root)
        print(f"classroom mode: read-only for every browser, listening on {address}:{args.port}", file=sys.stderr)
    os.execvpe(command[0], command, env)  # the server replaces this process (Ctrl+C stops it)
    return 0


if __name__ == "__main__":
    sys.exit(main())
