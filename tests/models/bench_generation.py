"""Benchmark of the shipped models: `python tests/models/bench_generation.py [--threads N]`.

Generates 60 s of head motion (and of SMPL-X motion) from real eSpeak conversation audio
with the default sampler, and streams the same audio in 200 ms chunks. Prints the
figures quoted in docs/MODELS.md. Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch


def conversation(seconds: float = 60.0):
    from openinfp.audio.espeak import synthesize
    from openinfp.core.audio import SAMPLE_RATE, ConversationAudio

    lines = ["So I finally went hiking in the mountains last weekend, and it was wonderful.",
             "Really? Which trail did you take, the one along the lake?",
             "Yes, the lake trail, and then we climbed up to the old fire tower at the top.",
             "That sounds like a lot of climbing. How long did it take you?"]
    n = int(seconds * SAMPLE_RATE)
    agent, partner = np.zeros(n, np.float32), np.zeros(n, np.float32)
    pos, turn = 0, 0
    while pos < n:
        wave = synthesize(lines[turn % len(lines)], "en-us+m3" if turn % 2 == 0 else "en-us+f2").wave
        wave = wave[: n - pos]
        (agent if turn % 2 == 0 else partner)[pos:pos + wave.size] = wave
        pos += wave.size + SAMPLE_RATE // 3
        turn += 1
    return ConversationAudio(agent, partner, source="espeak benchmark")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from openinfp.core.generator import MotionGenerator
    from openinfp.core.interfaces import ConditionInputs
    from openinfp.core.registry import Registry
    from openinfp.core.streaming import MotionStream

    audio = conversation()
    T = audio.num_frames(25)
    # the conditioner the shipped head model was trained with (recorded in its card)
    name = MotionGenerator.from_pretrained(None, "head").info.get("conditioner", "audio")
    cond = Registry.create(autoload=False).conditioner(name, {})
    t0 = time.perf_counter()
    tokens = cond.encode(ConditionInputs(audio=audio), T)
    t_cond = time.perf_counter() - t0
    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")
    print(f"audio conditioner, 60 s both tracks: {t_cond:.2f} s")
    for space in ("head", "smplx"):
        gen = MotionGenerator.from_pretrained(None, space)
        gen.generate(tokens, T, seed=0)  # warm-up (imports, allocator)
        times, cpu = [], []
        for r in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            gen.generate(tokens, T, seed=r)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        # wall time depends on what else runs on the shared CPU; process CPU time does not
        print(f"{space}: generate 60 s ({T} frames, {gen.sampler.scheduler} {gen.sampler.steps} steps, "
              f"guidance {gen.sampler.guidance_scale}): wall median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f} s), CPU time median {statistics.median(cpu):.2f} s over {args.repeats}")
    gen = MotionGenerator.from_pretrained(None, "head")
    stream = MotionStream(gen, cond, seed=0)
    chunk = 16000 // 5
    for i in range(0, audio.num_samples, chunk):
        stream.push(audio.agent[i:i + chunk], audio.partner[i:i + chunk])
    stream.flush()
    busy = [lat.compute_s for lat in stream.latencies if lat.frames_out]
    idle = [lat.compute_s for lat in stream.latencies if not lat.frames_out]
    print(f"stream (200 ms chunks): {len(busy)} pushes emitted a 2 s window: compute median "
          f"{statistics.median(busy) * 1000:.0f} ms, max {max(busy) * 1000:.0f} ms; other pushes median "
          f"{statistics.median(idle) * 1000:.1f} ms; algorithmic latency {stream.algorithmic_latency_s:.2f} s")


if __name__ == "__main__":
    main()
