"""finetune stage of facesynth."""
