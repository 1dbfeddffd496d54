"""Every cap the catalog enforces, in one place (the docs and error messages quote these)."""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

MAX_SKILL_MD_BYTES = 1 * MIB  # a SKILL.md larger than this is refused before parsing
MAX_FRONTMATTER_BYTES = 32 * KIB  # the YAML between the two `---` lines
MAX_YAML_NODES = 2_000  # nodes after alias expansion (an alias bomb expands to millions)
MAX_YAML_DEPTH = 32  # nesting depth of frontmatter collections

MAX_FILES_PER_SKILL = 512  # SEP-2640 draft limit
MAX_SKILL_BYTES = 16 * MIB  # SEP-2640 draft limit, all files of one skill together
MAX_FILE_BYTES = 8 * MIB  # one file served by read_file
MAX_DIR_DEPTH = 16  # folder nesting inside a skill

MAX_ZIP_MEMBERS = 1_024  # entries in a .skill package, folders included
MAX_ZIP_BYTES = MAX_SKILL_BYTES  # total uncompressed size of a .skill package

# Spec rules (agentskills.io specification)
MAX_NAME_CHARS = 64
MAX_DESCRIPTION_CHARS = 1024
MAX_COMPATIBILITY_CHARS = 500

# Spec guidance (warnings, not errors)
BODY_TOKEN_WARNING = 5_000
BODY_LINE_WARNING = 500
CHARS_PER_TOKEN = 4
