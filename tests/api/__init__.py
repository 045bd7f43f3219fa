"""HTTP tests of the GraphQL API and exports, on both backends."""
