"""The issue 19 idiom battery: kernels, their expected verdicts (cases.py) and its user problems."""
