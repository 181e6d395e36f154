"""Rule packs: legal rules as YAML data with citations and effective dates."""
