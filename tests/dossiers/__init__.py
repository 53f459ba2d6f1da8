"""Tests of harness.dossiers (a package so its module names cannot clash with other suites)."""
