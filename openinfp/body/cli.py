"""``openinfp beat2``: convert between openinfp motion files and the BEAT2/EMAGE layout."""

from __future__ import annotations

import argparse

from openinfp.cli_options import add_quiet


def add_beat2_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="a BEAT2/EMAGE SMPL-X .npz (poses, trans, ...) or an openinfp motion .npz")
    parser.add_argument("-o", "--output", default=None, metavar="OUT.npz",
                        help="the converted .npz: an openinfp motion file from BEAT2 input, "
                             "a BEAT2 file from openinfp input")
    parser.add_argument("legacy_output", nargs="?", default=None, help=argparse.SUPPRESS)  # `beat2 IN OUT`
    parser.add_argument("--betas-from", metavar="NPZ", default=None,
                        help="when writing BEAT2: copy the body shape (betas) from this BEAT2 file")
    add_quiet(parser)


def run_beat2(args: argparse.Namespace) -> int:
    import zipfile

    import numpy as np

    from openinfp.body.beat2 import load_beat2, load_beat2_betas, save_beat2
    from openinfp.core.errors import InputError
    from openinfp.core.io import require_file
    from openinfp.core.motion import MotionSequence

    if (args.output is None) == (args.legacy_output is None):
        raise InputError("give the output file once, with -o OUT.npz")
    output = args.output or args.legacy_output
    path = require_file(args.input, "motion file")
    if not zipfile.is_zipfile(path):
        raise InputError(f"motion file {path} is not a readable .npz archive (not a zip file)")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
    except Exception as exc:  # numpy raises several types for non-npz input
        raise InputError(f"motion file {path} is not a readable .npz archive ({exc})") from None
    if "poses" in keys:
        motion = load_beat2(path)
        motion.save(output)
        print(f"wrote {output}: {motion.num_frames} frames at {motion.fps:g} fps, smplx motion "
              "(from the BEAT2 layout)")
        return 0
    if "motion" in keys:
        motion = MotionSequence.load(path, spaces=getattr(args, "_registry", None) and args._registry.motion_space)
        if motion.space.name == "head":
            from openinfp.body.convert import head_to_smplx

            motion = head_to_smplx(motion)
        betas = load_beat2_betas(args.betas_from) if args.betas_from else None
        save_beat2(motion, output, betas=betas)
        print(f"wrote {output}: {motion.num_frames} frames at {motion.fps:g} fps, BEAT2 layout")
        return 0
    raise InputError(f"motion file {path} is neither BEAT2 ('poses') nor openinfp motion ('motion'); "
                     f"its keys: {', '.join(sorted(keys)) or 'none'}")
