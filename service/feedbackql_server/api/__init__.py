"""The GraphQL layer: schema built at start-up from the registered kinds, thin resolvers."""
