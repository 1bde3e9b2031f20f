"""manuscript-gui: batch export of audit working papers to a local folder."""

__version__ = "0.1.0"
