"""The registry's interfaces: HTTP (FastAPI + Strawberry GraphQL), the `registry` CLI, and wiring."""
