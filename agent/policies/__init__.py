"""Small pluggable policies beside the loop: effort, limits, stuck, observation masking, approvals."""
