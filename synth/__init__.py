"""synth stage of facesynth."""
