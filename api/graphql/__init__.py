"""The GraphQL API: a Strawberry schema over the registry's views, mounted at /graphql."""
