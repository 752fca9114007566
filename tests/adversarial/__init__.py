"""Adversarial cases in one place: files and sequences a hostile or unlucky delivery produces.

Each module names the promise it breaks against (README "Loading rules an analyst can rely on").
"""
