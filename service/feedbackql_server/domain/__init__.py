"""Business rules: what may be created, changed and answered. No GraphQL, no raw queries."""
