"""Identity and access: domains, accounts, users, roles, passwords, API keys and login sessions."""
