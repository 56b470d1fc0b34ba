"""DynamoDB adapters (repositories). The only code that talks to AWS storage."""
