"""GraphQL object types, one per module, each built from view or domain objects by from_*."""
