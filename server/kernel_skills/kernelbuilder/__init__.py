"""Checks a Hugging Face kernel-builder project (build.toml + layout) without Nix."""
