"""pretrain stage of facesynth."""
