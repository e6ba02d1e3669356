"""Small pluggable policies beside the loop: effort, limits, stuck detection, compaction."""
