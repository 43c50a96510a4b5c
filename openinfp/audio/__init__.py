"""Audio in: reading files, splitting/diarizing into two tracks, speech synthesis."""
