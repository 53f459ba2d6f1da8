"""Building BHXH dossiers: synthetic people, units and wages, and (later) the dossiers themselves.

The lead fills in the package facade; for now import from the submodules
(``harness.dossiers.provider``, ``.wages``, ``.text``).
"""
