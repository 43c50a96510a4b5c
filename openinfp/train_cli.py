"""``openinfp train``: the command line of :mod:`openinfp.training`.

Kept apart from the training code so that building the CLI parser imports nothing heavy.
Multi-GPU / multi-node: ``accelerate launch -m openinfp.cli train --config head ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from openinfp.cli_options import add_config, add_quiet
from openinfp.core.errors import ConfigError, InputError


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``openinfp train`` (imports nothing heavy)."""
    add_config(parser, default="head", legacy_positional=True)  # e.g. --set data.root=corpus --set train.steps=3000
    parser.add_argument("--eval-only", action="store_true",
                        help="skip training; evaluate train.out_dir/checkpoint (or --checkpoint) on held-out data")
    parser.add_argument("--checkpoint", default="", help="checkpoint folder to evaluate with --eval-only")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=FOLDER",
                        help="also evaluate another checkpoint side by side (e.g. no_banks=runs/ablation/checkpoint)")
    parser.add_argument("--init-from", default="", metavar="FOLDER",
                        help="warm start: copy the weights of this checkpoint folder before training "
                             "(matching tensors; widened inputs start at zero)")
    parser.add_argument("--cache-only", action="store_true",
                        help="only compute and cache the conditioner features of the corpus, then stop")
    parser.add_argument("--no-eval", action="store_true", help="skip the evaluation after training")
    parser.add_argument("--eval-steps", type=int, default=None,
                        help="sampler steps used by the evaluation (default: the model's)")
    add_quiet(parser, old=("--no-progress",))


def _load_training_setup(args: argparse.Namespace):
    from openinfp.config import load_config

    cfg = load_config(args.config, args.overrides, registry=args._registry)
    if not cfg.data.root:
        raise ConfigError("data.root is empty: give the corpus folder, e.g. `openinfp train -c "
                          f"{args.config} --set data.root=corpus` (build one with `openinfp synth`)")
    if not Path(cfg.data.root).is_dir():
        raise InputError(f"data.root {cfg.data.root} is not a folder")
    conditioners = [args._registry.conditioner(c.name, c.options) for c in cfg.conditioners]
    return cfg, conditioners


def run_train(args: argparse.Namespace) -> int:
    """``openinfp train``: cache features, train, save, evaluate."""
    from accelerate import PartialState

    from openinfp.core.generator import MotionGenerator
    from openinfp.core.model_config import GuiderConfig
    from openinfp.data import shards
    from openinfp.training.evaluate import EVAL_KEYS, evaluate, format_table
    from openinfp.training.features import TrainData, build_feature_cache, split_conversations, token_dims_of
    from openinfp.training.loop import fit

    cfg, conditioners = _load_training_setup(args)
    progress = not args.quiet
    tcfg = cfg.train
    if tcfg.threads > 0:
        import torch

        torch.set_num_threads(tcfg.threads)
    out_dir = Path(tcfg.out_dir)
    cache_dir = Path(tcfg.cache_dir) if tcfg.cache_dir else out_dir / "cache"
    space = args._registry.motion_space(cfg.motion_space)
    state = PartialState()
    with state.main_process_first():
        convs = build_feature_cache(cfg.data.root, conditioners, cfg.motion_space, cache_dir,
                                    tcfg.max_conversations, progress=progress and state.is_main_process,
                                    corpus_activity=tcfg.corpus_activity, shards=shards)
    if args.cache_only:
        if not args.quiet:
            print(f"cached features of {len(convs)} conversations under {cache_dir}", file=sys.stderr)
        return 0
    train_convs, val_convs = split_conversations(convs, tcfg.val_fraction, tcfg.seed)
    if not train_convs:
        raise InputError(f"corpus {cfg.data.root} has no training conversations (all are 'val')")
    if args.eval_only:
        folder = args.checkpoint or str(out_dir / "checkpoint")
        gen = MotionGenerator.from_pretrained(folder, cfg.motion_space, registry=args._registry)
    else:
        guider_opts = dict(cfg.guider.options)
        guider_config = GuiderConfig(**guider_opts)
        init = ["--init-from", args.init_from] if args.init_from else []
        sets = [f"--set {o}" for o in args.overrides]
        info = {"command": "openinfp train -c " + " ".join([args.config, *init, *sets]),
                "data_root": str(cfg.data.root), "train_conversations": len(train_convs),
                "val_conversations": len(val_convs),
                # the audio-kind conditioner the model reads ("audio" or "phonetic"): use the same at inference
                "conditioner": next((c.name for c in cfg.conditioners if c.name in ("audio", "phonetic")), "audio")}
        if args.init_from:
            info["init_from"] = args.init_from
        t0 = time.perf_counter()
        gen = fit(TrainData(train_convs, val_convs, token_dims_of(convs)), space, guider_config, cfg.model.dit,
                  cfg.model.sampler, tcfg, out_dir, cfg.fps, progress=progress, info=info,
                  init_from=Path(args.init_from) if args.init_from else None)
        if state.is_main_process and not args.quiet:
            print(f"trained {tcfg.steps} steps in {time.perf_counter() - t0:.0f} s; "
                  f"checkpoint: {out_dir / 'checkpoint'}", file=sys.stderr)
    if args.no_eval or not state.is_main_process:
        return 0
    systems: dict[str, Any] = {"model": gen}
    for item in args.compare:
        name, sep, folder = item.partition("=")
        if not sep or not name:
            raise InputError(f"--compare {item!r} must look like NAME=FOLDER")
        systems[name] = MotionGenerator.from_pretrained(folder, cfg.motion_space, registry=args._registry)
    systems["static"] = "static"
    held = val_convs[: tcfg.eval_conversations] if val_convs else []
    if not held:
        if not args.quiet:
            print("no held-out conversations: evaluation skipped", file=sys.stderr)
        return 0
    results = evaluate(systems, held, gen.space, cfg.fps, seed=cfg.seed, steps=args.eval_steps, progress=progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "eval.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    table = format_table(results, EVAL_KEYS)
    (out_dir / "eval.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0
