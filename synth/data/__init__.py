"""Training data layer: readers for synthetic and real face datasets, crops, mixing, augmentation.

Every reader yields the same ``FaceSample`` record (``synth.data.record``), in the
project's conventions (``synth.geometry``, ``synth.landmarks``), so pretraining and
fine-tuning never see a dataset's own conventions.
"""
