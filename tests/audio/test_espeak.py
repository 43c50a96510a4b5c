import numpy as np
import pytest

from openinfp.audio.espeak import synthesize
from openinfp.core.errors import InputError


def test_synthesizes_speech_with_phoneme_timing():
    utt = synthesize("Hello there, how are you?", voice="en-us", rate=170)
    assert utt.sample_rate == 16000 and 1.0 < utt.duration < 4.0
    assert np.abs(utt.wave).max() > 0.05
    times = [p.time for p in utt.phonemes]
    assert len(times) > 10 and times == sorted(times) and times[-1] < utt.duration
    assert len(utt.words) == 5
    # Sound is where the phonemes say speech is: the first 100 ms after a vowel has energy.
    first_vowel = next(p for p in utt.phonemes if p.phoneme.strip("'`,") in {"@", "E", "e", "aI", "h"})
    start = int(first_vowel.time * 16000)
    assert np.sqrt(np.mean(utt.wave[start:start + 1600] ** 2)) > 0.01


def test_voices_differ_and_bad_voice_is_clear():
    a = synthesize("Right.", voice="en-us", pitch=30)
    b = synthesize("Right.", voice="en-us+f3", pitch=75)
    assert a.wave.shape != b.wave.shape or not np.allclose(a.wave, b.wave)
    with pytest.raises(InputError, match="no voice 'xx-nope'"):
        synthesize("Hi", voice="xx-nope")
    with pytest.raises(InputError, match="empty"):
        synthesize("   ")


def test_same_text_speaks_the_same_in_every_process():
    """eSpeak seeds its noise from the clock; the engine fixes the seed, so a breathy
    variant (which uses that noise) gives the same wave in two fresh processes."""
    import subprocess
    import sys

    code = (
        "import hashlib; from openinfp.audio.espeak import synthesize; "
        "u = synthesize('We drove along the coast for three days.', voice='en-us+f3'); "
        "print(u.wave.size, hashlib.sha256(u.wave.tobytes()).hexdigest())"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs[0].strip() and runs[0] == runs[1]
