"""HTTP edge shared by the API functions: auth guard, body parsing, the one error mapping."""
