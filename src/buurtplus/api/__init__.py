"""HTTP only: routes, schemas, dependencies, error mapping."""
