"""Skill evaluation: skill_meta.json test cases, lift with vs without a skill. No MCP imports."""
