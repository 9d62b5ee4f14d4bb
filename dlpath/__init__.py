"""dlpath: a project scaffolder and tutor for learning deep learning."""

__version__ = "0.1.0"
