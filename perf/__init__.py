"""`make bench`: performance figures as ratios to a baseline measured in the same run."""
