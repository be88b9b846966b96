"""The built-in charging models, one plugin each (``spm_api.charging.<model>``), so an
organisation sees them, and a third-party model competes with them, on equal terms.

``parameters`` reads and normalises what a finance user sends; ``usage`` holds what the
usage-based models share: who is charged, in what proportion, and how a line reads.
"""
