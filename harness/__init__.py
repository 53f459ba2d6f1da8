"""bhxh-harness: conformance and regression testbed for BHXH's electronic-transaction gateway."""

__version__ = "0.1.0"
